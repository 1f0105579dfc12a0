//! The napi class behind the JS logger's output. JS calls `write()` with a batch of whole
//! serialised lines (one call per batch, not per line); everything after that happens on a
//! Rust thread. See `lib/log/sink.js` for the JS side of this boundary.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{check_status, JsString, JsValue};
use napi_derive::napi;

use super::destination::{Destination, Target};
use super::notice::NoticeFormat;
use super::queue::{Chunk, Overflow, Push, Queue};
use super::writer::{Reporter, Writer, WriterStats};

/// Options of a native log sink. JS validates them first (with messages that name the
/// user's option); these checks only guard the boundary.
#[napi(object)]
pub struct LogSinkOptions {
  /// `"stdout"`, `"stderr"`, `"fd"` or `"file"`.
  pub kind: String,
  /// The file path, for `kind: "file"`.
  pub path: Option<String>,
  /// The descriptor, for `kind: "fd"`. It is never closed by the sink.
  pub fd: Option<i32>,
  /// Upper bound of bytes held in memory (queued plus being written). Default 8 MiB.
  pub queue_bytes: Option<u32>,
  /// `"block"` (default) or `"drop"`.
  pub overflow: Option<String>,
  /// JSON object body (`"pid":1,"hostname":"h"`) added to the lines Rust writes itself.
  pub bindings: Option<String>,
  /// Encrypt the fields JS marks as sealed (`log.encrypt`); the key is checked here.
  pub encrypt: Option<crate::crypt::napi::SinkEncryption>,
}

/// Counters of a sink, all since it was created.
#[napi(object)]
pub struct LogSinkStats {
  /// Bytes written to the destination.
  pub written_bytes: f64,
  /// Bytes held in memory now (queued or being written).
  pub queued_bytes: f64,
  /// Lines dropped because the queue was full (or the sink closed).
  pub dropped_lines: f64,
  /// Failed write attempts (each retry counts).
  pub write_errors: f64,
  /// Lines given up after close because the destination kept failing.
  pub lost_lines: f64,
  /// True while the destination is failing.
  pub failing: bool,
}

/// What JS receives when a write fails.
#[napi(object)]
pub struct WriteFailure {
  /// The errno name, as Node's `err.code` (`ENOSPC`, `EACCES`, `EBADF`...).
  pub code: String,
  pub message: String,
}

type ErrorCallback = ThreadsafeFunction<WriteFailure, (), WriteFailure, Status, false, true>;

struct JsReporter(Option<ErrorCallback>);

impl Reporter for JsReporter {
  fn write_failed(&self, code: &str, message: &str) {
    if let Some(callback) = &self.0 {
      callback.call(
        WriteFailure {
          code: code.to_string(),
          message: message.to_string(),
        },
        ThreadsafeFunctionCallMode::NonBlocking,
      );
    }
  }
}

struct Shared {
  queue: Arc<Queue>,
  notices: NoticeFormat,
  stats: Arc<WriterStats>,
  thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
  /// Stops accepting lines, lets the writer drain the queue, and waits for it.
  fn close(&self) {
    self.queue.close();
    let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(handle) = handle {
      let _ = handle.join();
    }
  }
}

#[napi]
pub struct LogSink {
  shared: Arc<Shared>,
}

/// The string's UTF-16 code units, copied once into a (reused) buffer.
fn utf16_units(env: &Env, string: &JsString, queue: &Queue) -> Result<Vec<u16>> {
  let len = string.utf16_len()?;
  let mut units = queue.utf16_buffer(len + 1);
  let mut written = 0;
  // SAFETY: the buffer has room for `len` units plus the terminator N-API writes, and
  // `written` (at most `len`) units are initialised when the call succeeds.
  check_status!(unsafe {
    napi::sys::napi_get_value_string_utf16(
      env.raw(),
      string.raw(),
      units.as_mut_ptr(),
      len + 1,
      &mut written,
    )
  })?;
  unsafe { units.set_len(written) };
  Ok(units)
}

fn invalid(message: String) -> Error {
  Error::new(Status::InvalidArg, message)
}

fn target_of(options: &LogSinkOptions) -> Result<Target> {
  match options.kind.as_str() {
    "stdout" => Ok(Target::Stdout),
    "stderr" => Ok(Target::Stderr),
    "fd" => match options.fd {
      Some(fd) if fd >= 0 => Ok(Target::Fd(fd)),
      _ => Err(invalid(
        "LogSink: kind \"fd\" needs a non-negative fd".into(),
      )),
    },
    "file" => match &options.path {
      Some(path) if !path.is_empty() => Ok(Target::File(PathBuf::from(path))),
      _ => Err(invalid("LogSink: kind \"file\" needs a path".into())),
    },
    other => Err(invalid(format!(
      "LogSink: kind must be stdout, stderr, fd or file (got {other:?})"
    ))),
  }
}

impl LogSink {
  /// For Rust threads that write lines of their own (the watchdog): the queue and the
  /// line format, with this sink's bindings.
  pub(crate) fn line_writer(&self) -> (Arc<Queue>, NoticeFormat) {
    (self.shared.queue.clone(), self.shared.notices.clone())
  }
}

#[napi]
impl LogSink {
  #[napi(
    constructor,
    ts_args_type = "options: LogSinkOptions, onError?: (failure: WriteFailure) => void"
  )]
  pub fn new(env: Env, options: LogSinkOptions, on_error: Option<ErrorCallback>) -> Result<Self> {
    let target = target_of(&options)?;
    let decoder = crate::crypt::napi::decoder_for(options.encrypt.as_ref())?;
    let overflow = match options.overflow.as_deref() {
      None => Overflow::Block,
      Some(value) => Overflow::parse(value).ok_or_else(|| {
        invalid(format!(
          "LogSink: overflow must be block or drop (got {value:?})"
        ))
      })?,
    };
    let limit = options.queue_bytes.unwrap_or(8 << 20).max(1) as usize;
    let queue = Arc::new(Queue::new(limit, overflow));
    let stats = Arc::new(WriterStats::default());
    let notices = NoticeFormat::new(options.bindings.as_deref().unwrap_or(""));
    let writer = Writer {
      queue: queue.clone(),
      destination: Destination::new(target),
      notices: notices.clone(),
      reporter: Box::new(JsReporter(on_error)),
      stats: stats.clone(),
    };
    let handle = std::thread::Builder::new()
      .name("prodkit-log".into())
      .spawn(move || writer.run_with(decoder))
      .map_err(|e| {
        Error::from_reason(format!("prodkit: cannot start the log writer thread: {e}"))
      })?;
    let shared = Arc::new(Shared {
      queue,
      notices,
      stats,
      thread: Mutex::new(Some(handle)),
    });
    // When Node tears the environment down (worker thread end, process exit without the
    // JS 'exit' handler), drain and stop the writer so no thread outlives its env.
    env.add_env_cleanup_hook(shared.clone(), |shared| shared.close())?;
    Ok(LogSink { shared })
  }

  /// Queues a string of whole lines in the batch format of `chunk.rs`. Its UTF-16 code
  /// units are copied as they are (a memory copy for V8); the writer thread expands the
  /// shared line heads and converts to UTF-8. Returns how many lines were dropped (0 when
  /// queued).
  #[napi]
  pub fn write_string(&self, env: Env, chunk: JsString) -> Result<u32> {
    Ok(self.push(Chunk::Utf16(utf16_units(&env, &chunk, &self.shared.queue)?)))
  }

  fn push(&self, chunk: Chunk) -> u32 {
    match self.shared.queue.push(chunk) {
      Push::Queued => 0,
      Push::Dropped { lines } => lines.min(u32::MAX as u64) as u32,
    }
  }

  /// Waits until every line queued before the call is written. False if the destination
  /// is failing (the lines stay queued and are retried) or `timeoutMs` passed.
  #[napi]
  pub fn flush_sync(&self, timeout_ms: Option<u32>) -> bool {
    let target = self.shared.queue.flush_target();
    let timeout = timeout_ms.map(|ms| Duration::from_millis(ms as u64));
    self.shared.queue.wait_written(target, timeout)
  }

  /// `flushSync` on a libuv pool thread; resolves to the same boolean.
  #[napi(ts_return_type = "Promise<boolean>")]
  pub fn flush(&self, timeout_ms: Option<u32>) -> AsyncTask<FlushTask> {
    AsyncTask::new(FlushTask {
      queue: self.shared.queue.clone(),
      target: self.shared.queue.flush_target(),
      timeout: timeout_ms.map(|ms| Duration::from_millis(ms as u64)),
    })
  }

  /// Stops accepting lines, writes what is queued and ends the writer thread.
  #[napi]
  pub fn close(&self) {
    self.shared.close();
  }

  #[napi]
  pub fn stats(&self) -> LogSinkStats {
    let q = self.shared.queue.stats();
    LogSinkStats {
      written_bytes: q.written_bytes as f64,
      queued_bytes: q.held_bytes as f64,
      dropped_lines: q.dropped_lines as f64,
      write_errors: self.shared.stats.write_errors.load(Ordering::Relaxed) as f64,
      lost_lines: self.shared.stats.lost_lines.load(Ordering::Relaxed) as f64,
      failing: q.failing,
    }
  }
}

pub struct FlushTask {
  queue: Arc<Queue>,
  target: u64,
  timeout: Option<Duration>,
}

impl Task for FlushTask {
  type Output = bool;
  type JsValue = bool;

  fn compute(&mut self) -> Result<bool> {
    Ok(self.queue.wait_written(self.target, self.timeout))
  }

  fn resolve(&mut self, _env: Env, output: bool) -> Result<bool> {
    Ok(output)
  }
}
