//! The local terminal: raw mode while the session runs, restored on every exit
//! (drop, error, panic hook), and its size for Size messages.

use std::io::IsTerminal;
use std::sync::Mutex;

/// The settings to restore, for the panic hook too.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// Raw mode on stdin while alive; `None` when stdin is not a terminal.
pub struct RawMode {
    _private: (),
}

impl RawMode {
    pub fn enter() -> std::io::Result<Option<RawMode>> {
        if !std::io::stdin().is_terminal() {
            return Ok(None);
        }
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios we own.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
            install_panic_hook();
            let mut raw = t;
            libc::cfmakeraw(&mut raw);
            if libc::tcsetattr(0, libc::TCSADRAIN, &raw) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(Some(RawMode { _private: () }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts back the settings saved by `enter`, once.
pub fn restore() {
    if let Some(t) = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take() {
        // SAFETY: restoring the termios read from the same fd.
        unsafe {
            libc::tcsetattr(0, libc::TCSADRAIN, &t);
        }
    }
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// (cols, rows) of the terminal on stdout, else stdin.
pub fn size() -> Option<(u16, u16)> {
    for fd in [1, 0] {
        // SAFETY: TIOCGWINSZ fills a winsize we own.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws as *mut libc::winsize) == 0 && ws.ws_col > 0 {
                return Some((ws.ws_col, ws.ws_row));
            }
        }
    }
    None
}

/// The Size payload: `{"cols","rows"}`.
pub fn size_payload((cols, rows): (u16, u16)) -> Vec<u8> {
    serde_json::json!({ "cols": cols, "rows": rows }).to_string().into_bytes()
}
