//! One sample of the process and the system.
//!
//! Portable through sysinfo and `sys::cpu`. A figure the platform does not have is
//! `None` and not rendered: the thread count is Linux-only in sysinfo, and open
//! descriptors are left out on Windows, where sysinfo's figure is the count of all
//! kernel handles (events, threads, keys...), not of open files, so it would not mean
//! what `process_open_fds` means anywhere else. `docs/platforms.md` has the table.

use crate::sys;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};
use sysinfo::{
  CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind,
  ProcessesToUpdate, System,
};

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessSample {
  /// From getrusage (Unix) or GetProcessTimes (Windows); 0 if that call fails.
  pub cpu_user_seconds: f64,
  pub cpu_system_seconds: f64,
  /// CPU used since the previous sample; 1.0 is one core fully busy.
  pub cpu_ratio: f64,
  pub resident_memory_bytes: u64,
  pub virtual_memory_bytes: u64,
  pub open_fds: Option<u64>,
  pub threads: Option<u64>,
  pub disk_read_bytes: u64,
  pub disk_written_bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filesystem {
  pub mountpoint: String,
  pub device: String,
  pub fstype: String,
  pub size_bytes: u64,
  pub available_bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskIo {
  pub read_bytes: u64,
  pub written_bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkIo {
  pub receive_bytes: u64,
  pub transmit_bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemSample {
  /// All cores together; 1.0 is every core fully busy.
  pub cpu_ratio: f64,
  pub cpu_ratio_per_core: Vec<f64>,
  pub load1: f64,
  pub load5: f64,
  pub load15: f64,
  pub memory_total_bytes: u64,
  pub memory_available_bytes: u64,
  pub memory_used_bytes: u64,
  pub swap_total_bytes: u64,
  pub swap_used_bytes: u64,
  pub filesystems: Vec<Filesystem>,
  /// Bytes read and written per block device since boot.
  pub disks: BTreeMap<String, DiskIo>,
  /// Bytes received and sent per network interface since boot.
  pub networks: BTreeMap<String, NetworkIo>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplerSelf {
  /// CPU time the sampler thread itself has used (0 where the OS cannot say; every
  /// declared platform can).
  pub cpu_seconds: f64,
  pub samples: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
  /// When the sample was taken, ms since the epoch.
  pub time: u64,
  pub process: ProcessSample,
  pub system: SystemSample,
  pub sampler: SamplerSelf,
}

/// Takes samples; keeps the sysinfo state that rates (CPU usage) are computed from.
pub struct Sampler {
  system: System,
  disks: Disks,
  networks: Networks,
  pid: Pid,
  previous_cpu: Option<(std::time::Instant, f64)>,
  samples: u64,
}

impl Default for Sampler {
  fn default() -> Self {
    Self::new()
  }
}

impl Sampler {
  pub fn new() -> Sampler {
    let mut system = System::new();
    // CPU usage is a difference between two refreshes: prime the first one.
    system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
    Sampler {
      system,
      disks: Disks::new_with_refreshed_list_specifics(
        DiskRefreshKind::nothing().with_storage().with_io_usage(),
      ),
      networks: Networks::new_with_refreshed_list(),
      pid: Pid::from_u32(std::process::id()),
      previous_cpu: None,
      samples: 0,
    }
  }

  pub fn take(&mut self) -> Sample {
    self
      .system
      .refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
    self
      .system
      .refresh_memory_specifics(MemoryRefreshKind::everything());
    self.system.refresh_processes_specifics(
      ProcessesToUpdate::Some(&[self.pid]),
      false,
      ProcessRefreshKind::nothing()
        .with_memory()
        .with_disk_usage()
        .with_tasks(),
    );
    self.disks.refresh_specifics(
      true,
      DiskRefreshKind::nothing().with_storage().with_io_usage(),
    );
    self.networks.refresh(true);
    self.samples += 1;

    let (user, system) = sys::cpu::process_times().unwrap_or((0.0, 0.0));
    let now = std::time::Instant::now();
    let cpu_ratio = match self.previous_cpu {
      Some((then, used)) => {
        let wall = now.duration_since(then).as_secs_f64();
        if wall > 0.0 {
          ((user + system - used) / wall).max(0.0)
        } else {
          0.0
        }
      }
      None => 0.0,
    };
    self.previous_cpu = Some((now, user + system));

    let mut process = ProcessSample {
      cpu_user_seconds: user,
      cpu_system_seconds: system,
      cpu_ratio,
      ..ProcessSample::default()
    };
    if let Some(p) = self.system.process(self.pid) {
      process.resident_memory_bytes = p.memory();
      process.virtual_memory_bytes = p.virtual_memory();
      process.open_fds = if cfg!(windows) {
        None
      } else {
        p.open_files().map(|n| n as u64)
      };
      process.threads = p.tasks().map(|t| t.len() as u64);
      let io = p.disk_usage();
      process.disk_read_bytes = io.total_read_bytes;
      process.disk_written_bytes = io.total_written_bytes;
    }

    let load = System::load_average();
    let mut disks = BTreeMap::new();
    let mut filesystems = Vec::new();
    for disk in self.disks.list() {
      let device = disk.name().to_string_lossy().into_owned();
      filesystems.push(Filesystem {
        mountpoint: disk.mount_point().to_string_lossy().into_owned(),
        device: device.clone(),
        fstype: disk.file_system().to_string_lossy().into_owned(),
        size_bytes: disk.total_space(),
        available_bytes: disk.available_space(),
      });
      // One device mounted at several places counts once.
      let usage = disk.usage();
      disks.entry(device).or_insert(DiskIo {
        read_bytes: usage.total_read_bytes,
        written_bytes: usage.total_written_bytes,
      });
    }
    let networks = self
      .networks
      .list()
      .iter()
      .map(|(name, data)| {
        (
          name.clone(),
          NetworkIo {
            receive_bytes: data.total_received(),
            transmit_bytes: data.total_transmitted(),
          },
        )
      })
      .collect();

    Sample {
      time: SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0),
      process,
      system: SystemSample {
        cpu_ratio: self.system.global_cpu_usage() as f64 / 100.0,
        cpu_ratio_per_core: self
          .system
          .cpus()
          .iter()
          .map(|c| c.cpu_usage() as f64 / 100.0)
          .collect(),
        load1: load.one,
        load5: load.five,
        load15: load.fifteen,
        memory_total_bytes: self.system.total_memory(),
        memory_available_bytes: self.system.available_memory(),
        memory_used_bytes: self.system.used_memory(),
        swap_total_bytes: self.system.total_swap(),
        swap_used_bytes: self.system.used_swap(),
        filesystems,
        disks,
        networks,
      },
      sampler: SamplerSelf {
        cpu_seconds: sys::cpu::thread_time().map_or(0.0, |t| t.as_secs_f64()),
        samples: self.samples,
      },
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_sample_sees_this_process_and_the_system() {
    let mut sampler = Sampler::new();
    let _ = sampler.take();
    // Burn a little CPU so the second sample has something to measure.
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed().as_millis() < 50 {
      x = x.wrapping_mul(31).wrapping_add(7);
    }
    std::hint::black_box(x);
    let s = sampler.take();
    assert!(s.process.resident_memory_bytes > 1 << 20);
    assert!(s.process.virtual_memory_bytes >= s.process.resident_memory_bytes);
    // Figures sysinfo has only on Linux (see docs/platforms.md).
    if cfg!(target_os = "linux") {
      assert!(s.process.threads.unwrap() >= 1);
      assert!(s.process.open_fds.unwrap() >= 3);
      assert!(s.system.networks.contains_key("lo"));
    }
    assert!(s.process.cpu_user_seconds + s.process.cpu_system_seconds > 0.0);
    assert!(
      s.process.cpu_ratio > 0.1,
      "busy for 50 ms: {}",
      s.process.cpu_ratio
    );
    assert!(s.system.memory_total_bytes > s.system.memory_available_bytes);
    assert!(!s.system.cpu_ratio_per_core.is_empty());
    assert!(s.system.load1 >= 0.0);
    assert!(s.system.filesystems.iter().any(|f| f.mountpoint == "/"));
    assert_eq!(s.sampler.samples, 2);
    assert!(s.time > 1_600_000_000_000);
  }
}
