//! Command output on standard output. A reader that goes away early
//! (`colorid status | head -1`) ends the process quietly with exit code 0,
//! as Unix tools do, instead of the panic `println!` gives.

use std::io::Write;

/// Writes one line of command output; use it through [`crate::out!`].
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` for command output (see [`crate::output`]).
#[macro_export]
macro_rules! out {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
