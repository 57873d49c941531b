//! `alliance-map reload`: asks a running server's admin listener to reload its data (the
//! same as sending the server SIGHUP).

use std::io::{Read, Write};

use clap::Args;

use super::Failure;

#[derive(Args, Debug)]
pub struct ReloadArgs {
    /// The server's admin address.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub admin_addr: String,
}

/// POSTs /admin/reload with a minimal HTTP/1.1 client.
pub fn run(args: ReloadArgs) -> Result<(), Failure> {
    let addr = &args.admin_addr;
    let mut stream = std::net::TcpStream::connect(addr)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot connect to {addr}: {e}")))?;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(600)));
    write!(
        stream,
        "POST /admin/reload HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| Failure::Other(e.into()))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| Failure::Other(e.into()))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    println!("{}", body.trim());
    if head.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(Failure::Data(format!(
            "reload failed: {}",
            head.lines().next().unwrap_or("")
        )))
    }
}
