//! A sample as Prometheus exposition text (format 0.0.4) and as a JSON snapshot.
//! Names follow Prometheus conventions: base units in the name (`_bytes`, `_seconds`,
//! `_ratio`), `_total` on counters, HELP and TYPE for every family.

use std::fmt::Write;

use super::sample::{Filesystem, Sample};

/// `\`, `"` and newlines escaped, as label values need.
pub fn escape_label(value: &str) -> String {
  let mut out = String::with_capacity(value.len());
  for c in value.chars() {
    match c {
      '\\' => out.push_str("\\\\"),
      '"' => out.push_str("\\\""),
      '\n' => out.push_str("\\n"),
      c => out.push(c),
    }
  }
  out
}

fn number(value: f64) -> String {
  if value.is_finite() {
    format!("{value}")
  } else if value.is_nan() {
    "NaN".into()
  } else if value > 0.0 {
    "+Inf".into()
  } else {
    "-Inf".into()
  }
}

struct Text(String);

impl Text {
  fn family(&mut self, name: &str, kind: &str, help: &str) {
    let _ = writeln!(self.0, "# HELP {name} {help}");
    let _ = writeln!(self.0, "# TYPE {name} {kind}");
  }

  fn value(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
    self.0.push_str(name);
    if !labels.is_empty() {
      self.0.push('{');
      for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
          self.0.push(',');
        }
        let _ = write!(self.0, "{k}=\"{}\"", escape_label(v));
      }
      self.0.push('}');
    }
    let _ = writeln!(self.0, " {}", number(value));
  }

  /// A family with one sample per item: (labels, value).
  fn series<'a>(
    &mut self,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl Iterator<Item = (Vec<(&'a str, &'a str)>, f64)>,
  ) {
    self.family(name, kind, help);
    for (labels, value) in samples {
      self.value(name, &labels, value);
    }
  }

  fn single(&mut self, name: &str, kind: &str, help: &str, value: f64) {
    self.family(name, kind, help);
    self.value(name, &[], value);
  }
}

/// The process and system families of a sample.
pub fn prometheus<'a>(sample: &'a Sample) -> String {
  let mut t = Text(String::with_capacity(8 * 1024));
  let p = &sample.process;
  t.single(
    "process_cpu_user_seconds_total",
    "counter",
    "CPU time spent in user mode by this process.",
    p.cpu_user_seconds,
  );
  t.single(
    "process_cpu_system_seconds_total",
    "counter",
    "CPU time spent in kernel mode by this process.",
    p.cpu_system_seconds,
  );
  t.single(
    "process_cpu_usage_ratio",
    "gauge",
    "CPU used by this process over the last sampling interval (1 is one core).",
    p.cpu_ratio,
  );
  t.single(
    "process_resident_memory_bytes",
    "gauge",
    "Resident memory of this process.",
    p.resident_memory_bytes as f64,
  );
  t.single(
    "process_virtual_memory_bytes",
    "gauge",
    "Virtual memory of this process.",
    p.virtual_memory_bytes as f64,
  );
  if let Some(fds) = p.open_fds {
    t.single(
      "process_open_fds",
      "gauge",
      "Open file descriptors of this process.",
      fds as f64,
    );
  }
  if let Some(threads) = p.threads {
    t.single(
      "process_threads",
      "gauge",
      "Threads of this process.",
      threads as f64,
    );
  }
  t.single(
    "process_disk_read_bytes_total",
    "counter",
    "Bytes this process read from storage.",
    p.disk_read_bytes as f64,
  );
  t.single(
    "process_disk_written_bytes_total",
    "counter",
    "Bytes this process wrote to storage.",
    p.disk_written_bytes as f64,
  );

  let s = &sample.system;
  t.family("system_cpu_usage_ratio", "gauge", "CPU usage over the last sampling interval: cpu=\"all\" for the whole machine (1 is every core busy), else per core.");
  t.value("system_cpu_usage_ratio", &[("cpu", "all")], s.cpu_ratio);
  for (i, ratio) in s.cpu_ratio_per_core.iter().enumerate() {
    t.value("system_cpu_usage_ratio", &[("cpu", &i.to_string())], *ratio);
  }
  t.single("system_load1", "gauge", "1-minute load average.", s.load1);
  t.single("system_load5", "gauge", "5-minute load average.", s.load5);
  t.single(
    "system_load15",
    "gauge",
    "15-minute load average.",
    s.load15,
  );
  t.single(
    "system_memory_total_bytes",
    "gauge",
    "Total memory.",
    s.memory_total_bytes as f64,
  );
  t.single(
    "system_memory_available_bytes",
    "gauge",
    "Memory available to new work without swapping.",
    s.memory_available_bytes as f64,
  );
  t.single(
    "system_memory_used_bytes",
    "gauge",
    "Memory in use.",
    s.memory_used_bytes as f64,
  );
  t.single(
    "system_swap_total_bytes",
    "gauge",
    "Total swap.",
    s.swap_total_bytes as f64,
  );
  t.single(
    "system_swap_used_bytes",
    "gauge",
    "Swap in use.",
    s.swap_used_bytes as f64,
  );

  let fs_labels = |f: &'a Filesystem| {
    vec![
      ("mountpoint", f.mountpoint.as_str()),
      ("device", f.device.as_str()),
      ("fstype", f.fstype.as_str()),
    ]
  };
  t.series(
    "system_filesystem_size_bytes",
    "gauge",
    "Size of a mounted filesystem.",
    s.filesystems
      .iter()
      .map(|f| (fs_labels(f), f.size_bytes as f64)),
  );
  t.series(
    "system_filesystem_available_bytes",
    "gauge",
    "Space available on a mounted filesystem.",
    s.filesystems
      .iter()
      .map(|f| (fs_labels(f), f.available_bytes as f64)),
  );
  t.series(
    "system_disk_read_bytes_total",
    "counter",
    "Bytes read from a block device.",
    s.disks
      .iter()
      .map(|(d, io)| (vec![("device", d.as_str())], io.read_bytes as f64)),
  );
  t.series(
    "system_disk_written_bytes_total",
    "counter",
    "Bytes written to a block device.",
    s.disks
      .iter()
      .map(|(d, io)| (vec![("device", d.as_str())], io.written_bytes as f64)),
  );
  t.series(
    "system_network_receive_bytes_total",
    "counter",
    "Bytes received on a network interface.",
    s.networks
      .iter()
      .map(|(i, io)| (vec![("interface", i.as_str())], io.receive_bytes as f64)),
  );
  t.series(
    "system_network_transmit_bytes_total",
    "counter",
    "Bytes sent on a network interface.",
    s.networks
      .iter()
      .map(|(i, io)| (vec![("interface", i.as_str())], io.transmit_bytes as f64)),
  );

  t.single(
    "prodkit_sampler_cpu_seconds_total",
    "counter",
    "CPU time used by prodkit's sampler thread.",
    sample.sampler.cpu_seconds,
  );
  t.single(
    "prodkit_sampler_samples_total",
    "counter",
    "Samples taken by prodkit's sampler thread.",
    sample.sampler.samples as f64,
  );
  t.0
}

/// The sample as JSON, for `metrics.snapshot()`.
pub fn json(sample: &Sample) -> String {
  serde_json::to_string(sample).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
  use super::super::sample::{DiskIo, Filesystem, NetworkIo, Sample};
  use super::*;

  #[test]
  fn every_family_has_help_and_type_and_labels_are_escaped() {
    let mut sample = Sample::default();
    sample.system.cpu_ratio_per_core = vec![0.25, 0.5];
    sample.system.filesystems.push(Filesystem {
      mountpoint: "/mnt/we\"ird\\path\nx".into(),
      device: "sda1".into(),
      fstype: "ext4".into(),
      size_bytes: 10,
      available_bytes: 5,
    });
    sample.system.disks.insert(
      "sda".into(),
      DiskIo {
        read_bytes: 1,
        written_bytes: 2,
      },
    );
    sample.system.networks.insert(
      "eth0".into(),
      NetworkIo {
        receive_bytes: 3,
        transmit_bytes: 4,
      },
    );
    sample.process.open_fds = Some(12);
    let text = prometheus(&sample);
    assert!(text.contains("system_filesystem_size_bytes{mountpoint=\"/mnt/we\\\"ird\\\\path\\nx\",device=\"sda1\",fstype=\"ext4\"} 10\n"));
    assert!(text.contains("system_cpu_usage_ratio{cpu=\"1\"} 0.5\n"));
    assert!(text.contains("process_open_fds 12\n"));
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
      if let Some(rest) = line.strip_prefix("# TYPE ") {
        assert!(
          typed.insert(rest.split(' ').next().unwrap().to_string()),
          "one TYPE per family: {line}"
        );
      } else if !line.starts_with('#') {
        let name = line.split(['{', ' ']).next().unwrap();
        assert!(typed.contains(name), "{name} has a TYPE line before it");
        if name.ends_with("_total") {
          assert!(text.contains(&format!("# TYPE {name} counter")));
        }
      }
    }
  }

  #[test]
  fn non_finite_numbers_use_the_exposition_spelling() {
    assert_eq!(number(f64::NAN), "NaN");
    assert_eq!(number(f64::INFINITY), "+Inf");
    assert_eq!(number(1.5), "1.5");
    assert_eq!(number(3.0), "3");
  }
}
