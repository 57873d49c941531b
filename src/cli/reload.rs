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

/// POSTs /admin/reload with a minimal HTTP/1.1 client; when the server answers 202 (the
/// reload is still running), polls `GET /admin/reload` until that job has finished.
pub fn run(args: ReloadArgs) -> Result<(), Failure> {
    let addr = &args.admin_addr;
    let (head, body) = request(addr, "POST")?;
    match status_of(&head) {
        200 => {
            println!("{}", body.trim());
            Ok(())
        }
        202 => {
            let accepted: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let job = accepted["job"].as_u64().unwrap_or(u64::MAX);
            eprintln!("reload job {job} is running; waiting for it");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3600);
            loop {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let (_, body) = request(addr, "GET")?;
                let status: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                if status["finished"].as_u64().is_some_and(|f| f >= job) {
                    let last = &status["last"];
                    println!("{last}");
                    return if last["ok"] == true {
                        Ok(())
                    } else {
                        Err(Failure::Data(format!(
                            "reload failed: {}",
                            last["error"].as_str().unwrap_or("rejected")
                        )))
                    };
                }
                if std::time::Instant::now() > deadline {
                    return Err(Failure::Other(anyhow::anyhow!(
                        "reload job {job} did not finish in an hour"
                    )));
                }
            }
        }
        _ => {
            println!("{}", body.trim());
            Err(Failure::Data(format!(
                "reload failed: {}",
                head.lines().next().unwrap_or("")
            )))
        }
    }
}

/// One request to the admin listener: the response's head and body.
fn request(addr: &str, method: &str) -> Result<(String, String), Failure> {
    let mut stream = std::net::TcpStream::connect(addr)
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot connect to {addr}: {e}")))?;
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(600)));
    write!(
        stream,
        "{method} /admin/reload HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| Failure::Other(e.into()))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| Failure::Other(e.into()))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Ok((head.to_string(), body.to_string()))
}

fn status_of(head: &str) -> u16 {
    head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
