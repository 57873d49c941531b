//! Background work's CPU priority: bulk handlers and streamed annotations run their threads
//! at a lower scheduling priority (`nice`) than the request threads, so that single lookups
//! get the CPU first under a flood of bulk work.

/// The bulk threads' `nice` (a request thread's is 0): about a third of a request thread's
/// CPU weight. Read from `ALLIANCE_MAP_BULK_NICE` for measurements.
pub fn bulk_nice() -> i32 {
    std::env::var("ALLIANCE_MAP_BULK_NICE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_BULK_NICE)
}
const DEFAULT_BULK_NICE: i32 = 5;

/// Sets the calling thread's `nice` (Linux; elsewhere nothing: per-thread priorities are a
/// Linux feature).
pub fn lower_this_thread(nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority takes plain integers; on Linux `who = 0` is this thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, nice);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}
