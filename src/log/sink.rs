//! The napi class behind the JS logger's output. JS calls `write()` with a batch of whole
//! serialised lines (one call per batch, not per line); everything after that happens on a
//! Rust thread. See `lib/log/sink.js` for the JS side of this boundary.

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{check_status, JsString, JsValue};
use napi_derive::napi;

use super::archive::{Retention, RotationStats};
use super::destination::{Destination, Target};
use super::emergency::{self, Route};
use super::notice::NoticeFormat;
use super::pending::Pending;
use super::queue::{Chunk, Overflow, Push, Queue};
use super::rotate::{RotatePolicy, Rotation};
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
  /// Rotation of a `kind: "file"` destination.
  pub rotate: Option<LogRotateOptions>,
}

/// When to rotate a log file and what to do with rotated files (see `src/log/rotate.rs`).
#[napi(object)]
pub struct LogRotateOptions {
  /// Rotate before a batch would take the file past this many bytes.
  pub size_bytes: Option<f64>,
  /// Rotate when the file was born in an earlier period of this many ms (from the epoch).
  pub interval_ms: Option<f64>,
  /// Keep at most this many rotated files.
  pub keep: Option<u32>,
  /// Delete rotated files older than this many ms.
  pub max_age_ms: Option<f64>,
  /// Gzip rotated files on a background thread. Default true.
  pub compress: Option<bool>,
}

/// Rotation counters, present when the sink rotates.
#[napi(object)]
pub struct LogRotationStats {
  /// Rotations this process made.
  pub rotations: f64,
  /// Failed rotations, compressions and deletions of rotated files.
  pub errors: f64,
  /// Rotated files this process compressed.
  pub compressed_files: f64,
  /// Bytes of plain rotated files compressed.
  pub compressed_bytes: f64,
  /// CPU milliseconds the archive thread spent compressing them.
  pub compress_ms: f64,
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
  /// Present when the sink rotates its file.
  pub rotation: Option<LogRotationStats>,
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
  fn failed(&self, code: &str, message: &str) {
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
  rotation: Option<Arc<RotationStats>>,
  reopen: Arc<AtomicBool>,
  thread: Mutex<Option<JoinHandle<()>>>,
  /// The destination, as messages name it.
  describe: String,
  /// The env cleanup hook holds a reference to this (see `LogSink::unhook`).
  hooked: AtomicBool,
  /// The lines JS has logged and not yet handed over, and what the exits that give JS no
  /// further turn need to write them (`emergency.rs`).
  route: Arc<Route>,
}

impl Shared {
  /// Stops accepting lines, lets the writer drain the queue, and waits for it; never past
  /// the shutdown deadline nor after a second termination signal (`shutdown.rs`). Lines JS
  /// logged and did not hand over (the env cleanup hook runs without a JS turn) go first.
  /// A writer still busy then is left to the process's exit, and the lines it has not
  /// written are counted on stderr: never lost silently.
  fn close(&self) {
    self
      .route
      .pending
      .take_within(&self.queue, emergency::EXIT_WAIT);
    self.queue.close();
    let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(handle) = handle else { return };
    if self.queue.wait_stopped(None) {
      let _ = handle.join();
      return;
    }
    self.report_unwritten();
    // The thread is detached: it keeps trying until the process exits.
    drop(handle);
  }

  /// Counts on stderr, once, the lines the process ends without writing.
  /// Nothing to count here (a stopped writer counts its own lost lines when it ends)
  /// leaves the report to the writer.
  fn report_unwritten(&self) -> u64 {
    let lines = self.queue.unwritten_lines();
    if lines == 0 || !self.queue.take_report() {
      return 0;
    }
    eprintln!("{}", self.stats.unwritten_message(lines, &self.describe));
    lines
  }
}

/// Runs when Node tears the environment down (worker end, exit without the JS `exit`
/// listener): drains and stops the writer so no thread outlives its env.
unsafe extern "C" fn env_cleanup(data: *mut c_void) {
  // SAFETY: `data` is the reference `Arc::into_raw` gave the hook (see `LogSink::new`).
  let shared = unsafe { Arc::from_raw(data as *const Shared) };
  if shared.hooked.swap(false, Ordering::AcqRel) {
    shared.close();
  }
}

#[napi(custom_finalize)]
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

/// A count from JS (a double) as an integer, or an error naming it.
fn count(name: &str, value: Option<f64>) -> Result<Option<u64>> {
  match value {
    None => Ok(None),
    Some(v) if v.is_finite() && v >= 1.0 && v.fract() == 0.0 => Ok(Some(v as u64)),
    Some(v) => Err(invalid(format!(
      "LogSink: rotate.{name} must be a positive integer (got {v})"
    ))),
  }
}

fn rotate_policy(options: &LogRotateOptions) -> Result<RotatePolicy> {
  let policy = RotatePolicy {
    size: count("sizeBytes", options.size_bytes)?,
    interval_ms: count("intervalMs", options.interval_ms)?,
    retention: Retention {
      keep: options.keep.map(|k| k as usize),
      max_age_ms: count("maxAgeMs", options.max_age_ms)?,
      compress: options.compress.unwrap_or(true),
    },
  };
  if policy.size.is_none() && policy.interval_ms.is_none() {
    return Err(invalid(
      "LogSink: rotate needs sizeBytes and/or intervalMs".into(),
    ));
  }
  Ok(policy)
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

  /// Removes the env cleanup hook and drops its reference, so a closed or collected sink
  /// keeps nothing alive (each hook held its queue and buffers until the env ended).
  fn unhook(&self, env: &Env) {
    if self.shared.hooked.swap(false, Ordering::AcqRel) {
      let data = Arc::as_ptr(&self.shared) as *mut c_void;
      // SAFETY: the hook was added with this function and data; removing it on the env's
      // own thread means it can no longer run, so its reference is ours to drop.
      unsafe {
        napi::sys::napi_remove_env_cleanup_hook(env.raw(), Some(env_cleanup), data);
        drop(Arc::from_raw(data as *const Shared));
      }
    }
  }
}

/// A sink that became unreachable without `close()`: its writer is told to write what is
/// queued and end, without waiting for it here (this runs on the JS thread). Its thread
/// and descriptor go when the writer is done.
impl ObjectFinalize for LogSink {
  fn finalize(self, env: Env) -> Result<()> {
    self.unhook(&env);
    self.shared.queue.close();
    Ok(())
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
    let policy = match &options.rotate {
      None => None,
      Some(rotate) => match &target {
        Target::File(path) => Some((path.clone(), rotate_policy(rotate)?)),
        _ => {
          return Err(invalid(
            "LogSink: rotate needs a kind \"file\" destination".into(),
          ))
        }
      },
    };
    let queue = Arc::new(Queue::new(limit, overflow));
    let stats = Arc::new(WriterStats::default());
    let notices = NoticeFormat::new(options.bindings.as_deref().unwrap_or(""));
    let reporter: Arc<dyn Reporter> = Arc::new(JsReporter(on_error));
    let rotation_stats = policy.as_ref().map(|_| Arc::new(RotationStats::default()));
    let rotation = match (policy, &rotation_stats) {
      (Some((path, policy)), Some(stats)) => {
        Some(Rotation::new(path, policy, stats.clone(), reporter.clone()))
      }
      _ => None,
    };
    let destination = Destination::new(target);
    let describe = destination.describe();
    let reopen = destination.reopen_handle();
    let writer = Writer {
      queue: queue.clone(),
      destination,
      notices: notices.clone(),
      reporter,
      stats: stats.clone(),
      rotation,
    };
    let handle = std::thread::Builder::new()
      .name("prodkit-log".into())
      .spawn(move || writer.run_with(decoder))
      .map_err(|e| {
        Error::from_reason(format!("prodkit: cannot start the log writer thread: {e}"))
      })?;
    let route = Arc::new(Route {
      pending: Arc::new(Pending::new()),
      queue: queue.clone(),
      notices: notices.clone(),
    });
    emergency::register(&route);
    let shared = Arc::new(Shared {
      queue,
      notices,
      route,
      stats,
      rotation: rotation_stats,
      reopen,
      thread: Mutex::new(Some(handle)),
      describe,
      hooked: AtomicBool::new(true),
    });
    // napi's own remove_env_cleanup_hook keeps the hook's data forever; the raw calls let
    // close() and the finalizer take the reference back.
    let data = Arc::into_raw(shared.clone()) as *mut c_void;
    // SAFETY: `env_cleanup` takes back exactly this reference, unless `unhook` does.
    let added = unsafe { napi::sys::napi_add_env_cleanup_hook(env.raw(), Some(env_cleanup), data) };
    if added != napi::sys::Status::napi_ok {
      // SAFETY: the hook was not added: the reference is still ours.
      unsafe { drop(Arc::from_raw(data as *const Shared)) };
      shared.queue.close();
      return Err(Error::from_reason(
        "prodkit: cannot add the log sink's env cleanup hook",
      ));
    }
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

  /// The memory JS appends lines to (`pending.rs` has the layout): a Buffer over memory
  /// this sink owns, so that the lines in it can be written on exits that give JS no
  /// further turn. Call once.
  #[napi(ts_return_type = "Buffer")]
  pub fn pending_buffer<'env>(&self, env: &'env Env) -> Result<BufferSlice<'env>> {
    let pending = self.shared.route.pending.clone();
    let (memory, len) = pending.memory();
    // SAFETY: the memory lives as long as `pending`, which the buffer's finalizer holds.
    unsafe { BufferSlice::from_external(env, memory, len, pending, |_, pending| drop(pending)) }
  }

  /// `ship`, with `spill` (lines that did not fit in the pending buffer) in the same chunk,
  /// after the buffer's lines.
  #[napi]
  pub fn ship_with(&self, env: Env, spill: JsString) -> Result<u32> {
    let len = spill.utf16_len()?;
    let pushed =
      self
        .shared
        .route
        .pending
        .hand_over_with(&self.shared.queue, len + 1, |units| {
          let start = units.len();
          let mut written = 0;
          // SAFETY: the buffer has room for `len` more units plus the terminator N-API
          // writes, and `written` (at most `len`) units are initialised when it succeeds.
          check_status!(unsafe {
            napi::sys::napi_get_value_string_utf16(
              env.raw(),
              spill.raw(),
              units.as_mut_ptr().add(start),
              len + 1,
              &mut written,
            )
          })?;
          unsafe { units.set_len(start + written) };
          Ok::<(), Error>(())
        })?;
    Ok(match pushed {
      Push::Queued => 0,
      Push::Dropped { lines } => lines.min(u32::MAX as u64) as u32,
    })
  }

  /// Hands the lines committed in the pending buffer to the queue and empties it (JS then
  /// appends from the start). Returns how many lines were dropped (0 when queued).
  #[napi]
  pub fn ship(&self) -> u32 {
    match self.shared.route.pending.hand_over(&self.shared.queue) {
      Push::Queued => 0,
      Push::Dropped { lines } => lines.min(u32::MAX as u64) as u32,
    }
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

  /// Resolves to `flushSync`'s boolean without a waiting thread: the writer settles the
  /// promise when it passes the flush's target (never a libuv pool thread, which the app's
  /// fs, dns, crypto and zlib need). A pending flush keeps the event loop alive, like a
  /// pending fs write.
  #[napi(ts_return_type = "Promise<boolean>")]
  pub fn flush<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred::<bool, fn(Env) -> Result<bool>>()?;
    let target = self.shared.queue.flush_target();
    self.shared.queue.on_written(
      target,
      Box::new(move |written| {
        if written {
          deferred.resolve(|_| Ok(true))
        } else {
          deferred.resolve(|_| Ok(false))
        }
      }),
    );
    Ok(promise)
  }

  /// Asks the writer to reopen a file destination before its next batch (after an
  /// external tool such as logrotate moved it). Lines already queued go to the new file.
  #[napi]
  pub fn reopen(&self) {
    self.shared.reopen.store(true, Ordering::Release);
  }

  /// At process exit, after a flush that could not finish (failing or stalled destination,
  /// shutdown deadline, second signal): counts on stderr, once, the lines not written, and
  /// returns how many. `process.exit()` runs no env cleanup hook, so this is the last word.
  #[napi]
  pub fn report_unwritten(&self) -> f64 {
    self.shared.report_unwritten() as f64
  }

  /// Stops accepting lines, writes what is queued and ends the writer thread (within the
  /// shutdown deadline, if one is set), and releases everything the sink holds.
  #[napi]
  pub fn close(&self, env: Env) {
    self.shared.close();
    self.unhook(&env);
  }

  #[napi]
  pub fn stats(&self) -> LogSinkStats {
    let q = self.shared.queue.stats();
    LogSinkStats {
      written_bytes: self.shared.stats.written_bytes.load(Ordering::Relaxed) as f64,
      queued_bytes: q.held_bytes as f64,
      dropped_lines: q.dropped_lines as f64,
      write_errors: self.shared.stats.write_errors.load(Ordering::Relaxed) as f64,
      lost_lines: self.shared.stats.lost_lines.load(Ordering::Relaxed) as f64,
      failing: q.failing,
      rotation: self.shared.rotation.as_ref().map(|r| LogRotationStats {
        rotations: r.rotations.load(Ordering::Relaxed) as f64,
        errors: r.errors.load(Ordering::Relaxed) as f64,
        compressed_files: r.compressed_files.load(Ordering::Relaxed) as f64,
        compressed_bytes: r.compressed_bytes.load(Ordering::Relaxed) as f64,
        compress_ms: r.compress_cpu_ns.load(Ordering::Relaxed) as f64 / 1e6,
      }),
    }
  }
}
