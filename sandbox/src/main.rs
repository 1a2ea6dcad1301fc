//! `apns-sandbox`: a local stand-in for Apple's binary push gateway and feedback
//! service, for tests, the demo and users' own test suites. The command line is
//! a contract, written down in docs/sandbox-cli.md.
//!
//! This file owns argument parsing and start-up only. Errors go to stderr with
//! exit code 2.
//!
//! # Layout
//! - [`certs`]: `certs --out DIR`, the throwaway PKI (rcgen).
//! - [`server`]: `serve`: start-up order, ports, signals, the orderly exit.
//! - [`tls`]: the rustls server configuration with mandatory client certificates.
//! - [`stream`]: one TLS connection: handshake and an orderly close the client sees.
//! - [`gateway`]: the binary protocol loop and Apple's acceptance rules.
//! - [`feedback`]: the feedback service and its tuple file.
//! - [`log`]: the JSONL log and the global accept count.
//! - [`faults`]: `--shutdown-every`, `--drop-every`, `--slow-read`.
//! - [`hostile`]: `--hostile MODE`, a binary gateway that misbehaves on purpose.
//! - [`http2`]: the HTTP/2 provider API (checks, faults, log lines).
//! - [`authkey`]: `auth-key.p8` for token auth, and the JWT check.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod authkey;
mod certs;
mod faults;
mod feedback;
mod gateway;
mod hostile;
mod http2;
mod log;
mod server;
mod stream;
mod tls;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::faults::Faults;
use crate::server::Options;

const USAGE: &str = "\
usage:
  apns-sandbox certs --out DIR
      write a throwaway PKI (CA, server and client certificates) into DIR
  apns-sandbox serve --certs DIR [options]
      serve the binary gateway, the feedback service and the HTTP/2 API on 127.0.0.1
      --port N  --feedback-port N  --ports-file FILE  --log FILE
      --invalid-tokens FILE  --feedback FILE  --shutdown-every N  --drop-every N
      --slow-read BPS  --error-delay SECS  --server-cert NAME  --sink  --exit-after SECS
      --hostile garbage|endless|unknown-id|stall-handshake|stall-record
      HTTP/2 provider API: --http2-port N  --unregistered FILE  --h2-status-every N:CODE
      --goaway-every N  --goaway-conn K:N  --max-streams N[,M...]  --h2-delay-ms N
  see docs/sandbox-cli.md for the details";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Certs { out: PathBuf },
    Serve(Box<Options>),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = parse(&args).and_then(|command| match command {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::Certs { out } => certs::write_all(&out),
        Command::Serve(options) => server::run(*options),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("apns-sandbox: {message}");
            ExitCode::from(2)
        }
    }
}

/// Parses the arguments after the program name.
fn parse(args: &[String]) -> Result<Command, String> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let Some((sub, rest)) = args.split_first() else {
        return Err(format!("a command is needed\n{USAGE}"));
    };
    let mut options = Flags::new(rest);
    match sub.as_str() {
        "certs" => {
            let mut out = None;
            while let Some(flag) = options.next_flag()? {
                match flag.as_str() {
                    "--out" => out = Some(PathBuf::from(options.value(&flag)?)),
                    other => return Err(unknown("certs", other)),
                }
            }
            let out = out.ok_or("certs needs --out DIR")?;
            Ok(Command::Certs { out })
        }
        "serve" => parse_serve(&mut options).map(|o| Command::Serve(Box::new(o))),
        other => Err(format!(
            "unknown command {other:?} (expected certs or serve)\n{USAGE}"
        )),
    }
}

fn parse_serve(options: &mut Flags<'_>) -> Result<Options, String> {
    let mut certs = None;
    let mut o = Options {
        certs: PathBuf::new(),
        port: 0,
        feedback_port: 0,
        ports_file: None,
        log: None,
        invalid_tokens: None,
        feedback: None,
        faults: Faults::default(),
        slow_read: None,
        error_delay: None,
        server_cert: "server".into(),
        sink: false,
        exit_after: None,
        hostile: None,
        http2: Box::default(),
    };
    while let Some(flag) = options.next_flag()? {
        match flag.as_str() {
            "--certs" => certs = Some(PathBuf::from(options.value(&flag)?)),
            "--port" => o.port = number(&flag, &options.value(&flag)?)?,
            "--feedback-port" => o.feedback_port = number(&flag, &options.value(&flag)?)?,
            "--ports-file" => o.ports_file = Some(options.value(&flag)?.into()),
            "--log" => o.log = Some(options.value(&flag)?.into()),
            "--invalid-tokens" => o.invalid_tokens = Some(options.value(&flag)?.into()),
            "--feedback" => o.feedback = Some(options.value(&flag)?.into()),
            "--shutdown-every" => o.faults.shutdown_every = Some(positive(&flag, options)?),
            "--drop-every" => o.faults.drop_every = Some(positive(&flag, options)?),
            "--slow-read" => o.slow_read = Some(positive(&flag, options)?),
            "--server-cert" => {
                o.server_cert = options.value(&flag)?;
                if o.server_cert.is_empty() {
                    return Err("--server-cert needs a name, e.g. other-server".into());
                }
            }
            "--sink" => {
                options.no_value(&flag)?;
                o.sink = true;
            }
            "--exit-after" => o.exit_after = Some(seconds(&flag, options)?),
            "--error-delay" => o.error_delay = Some(seconds(&flag, options)?),
            "--hostile" => o.hostile = Some(hostile::Mode::parse(&options.value(&flag)?)?),
            "--http2-port" => o.http2.port = number(&flag, &options.value(&flag)?)?,
            "--unregistered" => o.http2.unregistered = Some(options.value(&flag)?.into()),
            "--h2-status-every" => {
                o.http2.status_every =
                    Some(http2::Flags::parse_status_every(&options.value(&flag)?)?)
            }
            "--goaway-every" => o.http2.goaway_every = Some(positive(&flag, options)?),
            "--goaway-conn" => {
                let text = options.value(&flag)?;
                let bad = || format!("{flag} wants K:N (numbers above 0), not {text:?}");
                let (k, n) = text.split_once(':').ok_or_else(bad)?;
                let k: u64 = number(&flag, k)?;
                let n: u64 = number(&flag, n)?;
                if k == 0 || n == 0 {
                    return Err(bad());
                }
                o.http2.goaway_conn = Some((k, n));
            }
            "--max-streams" => {
                let text = options.value(&flag)?;
                o.http2.max_streams = text
                    .split(',')
                    .map(|n| match number::<u32>(&flag, n.trim())? {
                        0 => Err(format!("{flag} wants numbers above 0")),
                        n => Ok(n),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--h2-delay-ms" => o.http2.delay_ms = Some(positive(&flag, options)?),
            other => return Err(unknown("serve", other)),
        }
    }
    o.certs =
        certs.ok_or("serve needs --certs DIR (make one with: apns-sandbox certs --out DIR)")?;
    Ok(o)
}

fn unknown(command: &str, flag: &str) -> String {
    format!("unknown option {flag:?} for {command} (see apns-sandbox --help)")
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{flag} wants a number, not {text:?}"))
}

/// Seconds above 0, fractions allowed.
fn seconds(flag: &str, options: &mut Flags<'_>) -> Result<Duration, String> {
    let text = options.value(flag)?;
    let secs: f64 = number(flag, &text)?;
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        return Err(format!("{flag} wants seconds above 0, not {text:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn positive(flag: &str, options: &mut Flags<'_>) -> Result<u64, String> {
    let text = options.value(flag)?;
    match number::<u64>(flag, &text)? {
        0 => Err(format!("{flag} wants a number above 0")),
        n => Ok(n),
    }
}

/// `--name value` and `--name=value` options, one at a time.
struct Flags<'a> {
    args: std::slice::Iter<'a, String>,
    /// The value given with `=` to the flag just returned.
    inline: Option<String>,
}

impl<'a> Flags<'a> {
    fn new(args: &'a [String]) -> Flags<'a> {
        Flags {
            args: args.iter(),
            inline: None,
        }
    }

    fn next_flag(&mut self) -> Result<Option<String>, String> {
        if let Some(value) = self.inline.take() {
            return Err(format!("unexpected value {value:?}"));
        }
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        if !arg.starts_with("--") {
            return Err(format!(
                "unexpected argument {arg:?} (options start with --)"
            ));
        }
        Ok(Some(match arg.split_once('=') {
            Some((flag, value)) => {
                self.inline = Some(value.to_string());
                flag.to_string()
            }
            None => arg.clone(),
        }))
    }

    fn value(&mut self, flag: &str) -> Result<String, String> {
        if let Some(value) = self.inline.take() {
            return Ok(value);
        }
        self.args
            .next()
            .cloned()
            .ok_or_else(|| format!("{flag} needs a value"))
    }

    fn no_value(&mut self, flag: &str) -> Result<(), String> {
        match self.inline.take() {
            Some(_) => Err(format!("{flag} takes no value")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_every_serve_option() {
        let got = parse(&args(
            "serve --certs d --port 2195 --feedback-port=2196 --ports-file p --log l \
             --invalid-tokens i --feedback f --shutdown-every 3 --drop-every 5 \
             --slow-read 1000 --server-cert other-server --sink --exit-after 1.5 \
             --hostile stall-record --error-delay 0.7",
        ));
        let want = Options {
            certs: "d".into(),
            port: 2195,
            feedback_port: 2196,
            ports_file: Some("p".into()),
            log: Some("l".into()),
            invalid_tokens: Some("i".into()),
            feedback: Some("f".into()),
            faults: Faults {
                shutdown_every: Some(3),
                drop_every: Some(5),
            },
            slow_read: Some(1000),
            error_delay: Some(Duration::from_millis(700)),
            server_cert: "other-server".into(),
            sink: true,
            exit_after: Some(Duration::from_millis(1500)),
            hostile: Some(hostile::Mode::StallRecord),
            http2: Box::default(),
        };
        assert_eq!(got, Ok(Command::Serve(Box::new(want))));
    }

    #[test]
    fn max_streams_takes_one_value_or_a_list() {
        for (line, want) in [
            ("5", vec![5]),
            ("3,12", vec![3, 12]),
            ("3, 12,1", vec![3, 12, 1]),
        ] {
            let Ok(Command::Serve(o)) = parse(&[
                "serve".into(),
                "--certs".into(),
                "d".into(),
                "--max-streams".into(),
                line.into(),
            ]) else {
                panic!("{line}");
            };
            assert_eq!(o.http2.max_streams, want, "{line}");
        }
        for (line, want) in [
            ("0", "above 0"),
            ("3,", "wants a number"),
            ("x", "wants a number"),
        ] {
            let err = parse(&args(&format!("serve --certs d --max-streams {line}"))).unwrap_err();
            assert!(err.contains(want), "{line:?}: {err}");
        }
    }

    #[test]
    fn certs_and_help() {
        assert_eq!(
            parse(&args("certs --out /tmp/x")),
            Ok(Command::Certs {
                out: "/tmp/x".into()
            })
        );
        assert_eq!(parse(&args("serve --help")), Ok(Command::Help));
    }

    #[test]
    fn refuses_mistakes_with_a_reason() {
        for (line, want) in [
            ("", "a command is needed"),
            ("launch", "unknown command"),
            ("certs", "needs --out"),
            ("serve --port 80", "needs --certs"),
            ("serve --certs d --port 70000", "--port wants a number"),
            ("serve --certs d --drop-every 0", "above 0"),
            ("serve --certs d --exit-after -1", "--exit-after"),
            (
                "serve --certs d --error-delay 0",
                "--error-delay wants seconds above 0",
            ),
            ("serve --certs d --sink=yes", "takes no value"),
            ("serve --certs d --log", "--log needs a value"),
            ("serve --certs d --frobnicate", "unknown option"),
            ("serve --certs d --hostile nice", "--hostile wants one of"),
            ("serve --certs d stray", "unexpected argument"),
        ] {
            let err = parse(&args(line)).unwrap_err();
            assert!(err.contains(want), "{line:?}: {err}");
        }
    }
}
