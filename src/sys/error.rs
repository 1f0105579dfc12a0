//! OS errors by the names Node gives them in `err.code`.
//!
//! On Unix, `io::Error::raw_os_error()` is an errno and `log::destination::error_code`
//! names it from libc's table. On Windows it is a Win32 error code (`GetLastError`), whose
//! numbers mean something else entirely (32 is EPIPE on Linux and ERROR_SHARING_VIOLATION
//! on Windows), so `code` here maps them to errno names the way libuv does for Node
//! (`uv_translate_sys_error`): ERROR_ACCESS_DENIED is `EPERM`, a full disk is `ENOSPC`,
//! a sharing or lock violation is `EBUSY`. A code not in the table is `WIN32_<n>`; an
//! error without an OS code is named by its kind, except `Unsupported`, which is
//! `ENOTSUP` on every platform (the stable code of "not on this platform").

use std::io;

/// The error of an operation this platform does not have, with a message that says
/// which; its code is `ENOTSUP`.
pub fn unsupported(what: &str) -> io::Error {
  io::Error::new(io::ErrorKind::Unsupported, what.to_string())
}

/// "Not a directory": a component of a path exists and is a regular file.
pub fn not_a_directory() -> io::Error {
  #[cfg(unix)]
  {
    io::Error::from_raw_os_error(libc::ENOTDIR)
  }
  #[cfg(windows)]
  {
    io::Error::from_raw_os_error(windows_sys::Win32::Foundation::ERROR_DIRECTORY as i32)
  }
}

/// The errno-style name of an error (see the module docs). Windows only: on Unix,
/// `log::destination::error_code` names errnos.
#[cfg(windows)]
pub fn code(err: &io::Error) -> String {
  match err.raw_os_error() {
    Some(n) => win32_name(n as u32).map_or_else(|| format!("WIN32_{n}"), str::to_string),
    None if err.kind() == io::ErrorKind::Unsupported => "ENOTSUP".to_string(),
    None => format!("{:?}", err.kind()),
  }
}

#[cfg(windows)]
fn win32_name(n: u32) -> Option<&'static str> {
  use windows_sys::Win32::Foundation::*;
  Some(match n {
    ERROR_FILE_NOT_FOUND | ERROR_PATH_NOT_FOUND | ERROR_INVALID_DRIVE | ERROR_BAD_NETPATH
    | ERROR_BAD_PATHNAME | ERROR_INVALID_NAME | ERROR_MOD_NOT_FOUND => "ENOENT",
    ERROR_ACCESS_DENIED | ERROR_PRIVILEGE_NOT_HELD => "EPERM",
    ERROR_NOACCESS | ERROR_CANT_ACCESS_FILE | ERROR_ELEVATION_REQUIRED => "EACCES",
    ERROR_INVALID_HANDLE => "EBADF",
    ERROR_NOT_ENOUGH_MEMORY | ERROR_OUTOFMEMORY => "ENOMEM",
    ERROR_WRITE_PROTECT => "EROFS",
    ERROR_SHARING_VIOLATION | ERROR_LOCK_VIOLATION | ERROR_BUSY | ERROR_PIPE_BUSY => "EBUSY",
    ERROR_HANDLE_DISK_FULL | ERROR_DISK_FULL => "ENOSPC",
    ERROR_NOT_SUPPORTED => "ENOTSUP",
    ERROR_FILE_EXISTS | ERROR_ALREADY_EXISTS => "EEXIST",
    ERROR_INVALID_PARAMETER => "EINVAL",
    ERROR_BROKEN_PIPE | ERROR_NO_DATA | ERROR_BAD_PIPE | ERROR_PIPE_NOT_CONNECTED => "EPIPE",
    ERROR_TOO_MANY_OPEN_FILES => "EMFILE",
    ERROR_DIRECTORY => "ENOTDIR",
    ERROR_INVALID_FUNCTION => "EISDIR",
    ERROR_DIR_NOT_EMPTY => "ENOTEMPTY",
    ERROR_FILENAME_EXCED_RANGE => "ENAMETOOLONG",
    ERROR_NOT_SAME_DEVICE => "EXDEV",
    ERROR_OPERATION_ABORTED => "ECANCELED",
    ERROR_SEM_TIMEOUT | ERROR_TIMEOUT => "ETIMEDOUT",
    ERROR_CRC | ERROR_IO_DEVICE | ERROR_GEN_FAILURE => "EIO",
    ERROR_NOT_CONNECTED => "ENOTCONN",
    ERROR_CONNECTION_REFUSED => "ECONNREFUSED",
    ERROR_NETNAME_DELETED => "ECONNRESET",
    _ => return None,
  })
}
