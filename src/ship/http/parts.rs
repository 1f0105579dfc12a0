//! Sending one batch as one request, and as smaller requests only when the store refuses it
//! whole: this is how a refused batch comes down to the lines that are actually refused, so
//! that one bad line never sets the whole batch aside, and how a batch too large for the store
//! (413) still goes through.
//!
//! The rule: a part the store refused whole (400/422, a ClickHouse parse error) or found too
//! large (413) is cut in two halves, each sent on its own, down to single lines; a single line
//! still refused is set aside. A store that names the one bad line (Splunk's
//! `invalid-event-number`) gets the rest of the part again without it. The first `Retry`
//! ends the batch as `Retry`: the shipper resends the whole batch later, parts already stored
//! included (at-least-once; the stores that deduplicate do so by the lines' ids). Every request
//! either stores, sets aside or shrinks a part, so a batch of n lines takes at most 2n requests.

use crate::ship::target::Outcome;
use std::collections::VecDeque;

/// What the store said about one part (a request carrying some of the batch's lines).
pub(crate) enum Part {
  /// The store has every line of the part.
  Stored,
  /// The store has every line but these (indexes into the part), refused for good.
  Items { refused: Vec<usize>, reason: String },
  /// The store refused the part as a whole and stored none of it.
  RefusedAll(String),
  /// The part is too large for the store.
  TooLarge(String),
  /// This line (index into the part) is refused; the store says nothing about the others,
  /// which are sent again without it.
  RefusedOne { index: usize, reason: String },
  /// Nothing known to be stored: resend the whole batch later.
  Retry(String),
}

impl Part {
  /// What the store said, as text (for a request that is not a batch: a version query).
  pub fn reason(self) -> String {
    match self {
      Part::Retry(r) | Part::RefusedAll(r) | Part::TooLarge(r) => r,
      Part::Items { reason, .. } | Part::RefusedOne { reason, .. } => reason,
      Part::Stored => "stored".to_string(),
    }
  }
}

/// Sends the lines `0..n` of a batch through `send`, which gets the batch indexes of one part
/// (in file order) and says what the store did with them.
pub(crate) fn send_in_parts(n: usize, mut send: impl FnMut(&[usize]) -> Part) -> Outcome {
  let mut queue: VecDeque<Vec<usize>> = VecDeque::new();
  if n > 0 {
    queue.push_back((0..n).collect());
  }
  let mut refused: Vec<usize> = Vec::new();
  let mut reasons: Vec<String> = Vec::new();
  while let Some(part) = queue.pop_front() {
    match send(&part) {
      Part::Stored => {}
      Part::Items {
        refused: items,
        reason,
      } => {
        refused.extend(items.iter().filter_map(|&i| part.get(i).copied()));
        reasons.push(reason);
      }
      Part::RefusedAll(reason) | Part::TooLarge(reason) => {
        if part.len() == 1 {
          refused.push(part[0]);
          reasons.push(reason);
        } else {
          let (first, second) = part.split_at(part.len() / 2);
          queue.push_front(second.to_vec());
          queue.push_front(first.to_vec());
        }
      }
      Part::RefusedOne { index, reason } => {
        let index = index.min(part.len() - 1);
        refused.push(part[index]);
        reasons.push(reason);
        let rest: Vec<usize> = part
          .iter()
          .enumerate()
          .filter(|&(i, _)| i != index)
          .map(|(_, &l)| l)
          .collect();
        if !rest.is_empty() {
          queue.push_front(rest);
        }
      }
      Part::Retry(reason) => return Outcome::Retry { reason },
    }
  }
  if refused.is_empty() && reasons.is_empty() {
    return Outcome::Acked;
  }
  refused.sort_unstable();
  refused.dedup();
  let mut reason = reasons.swap_remove(0);
  if !reasons.is_empty() {
    reason = format!("{reason} (and {} more refusals)", reasons.len());
  }
  Outcome::Rejected {
    lines: refused,
    reason,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn refused(outcome: Outcome) -> Vec<usize> {
    match outcome {
      Outcome::Rejected { lines, .. } => lines,
      Outcome::Acked => panic!("acked"),
      Outcome::Retry { reason } => panic!("retry: {reason}"),
    }
  }

  #[test]
  fn one_request_when_the_store_takes_the_batch() {
    let mut calls = 0;
    assert!(matches!(
      send_in_parts(10, |p| {
        calls += 1;
        assert_eq!(p.len(), 10);
        Part::Stored
      }),
      Outcome::Acked
    ));
    assert_eq!(calls, 1);
  }

  #[test]
  fn a_refused_batch_comes_down_to_its_bad_lines() {
    let bad = [3usize, 7];
    let mut calls = 0;
    let lines = refused(send_in_parts(10, |p| {
      calls += 1;
      if p.iter().any(|i| bad.contains(i)) {
        Part::RefusedAll("400 bad".into())
      } else {
        Part::Stored
      }
    }));
    assert_eq!(lines, vec![3, 7]);
    assert!(calls <= 20, "{calls} requests");
  }

  #[test]
  fn too_large_is_halved_and_a_single_line_too_large_is_refused() {
    let mut sizes = Vec::new();
    let lines = refused(send_in_parts(8, |p| {
      sizes.push(p.len());
      if p.len() > 2 || p.contains(&5) {
        Part::TooLarge("413".into())
      } else {
        Part::Stored
      }
    }));
    assert_eq!(lines, vec![5]);
    assert_eq!(sizes[..3], [8, 4, 2]);
  }

  #[test]
  fn a_named_bad_line_is_dropped_and_the_rest_resent() {
    let mut seen = Vec::new();
    let lines = refused(send_in_parts(5, |p| {
      seen.push(p.to_vec());
      match p.iter().position(|&i| i == 1 || i == 3) {
        Some(index) => Part::RefusedOne {
          index,
          reason: "code 6".into(),
        },
        None => Part::Stored,
      }
    }));
    assert_eq!(lines, vec![1, 3]);
    assert_eq!(
      seen,
      vec![vec![0, 1, 2, 3, 4], vec![0, 2, 3, 4], vec![0, 2, 4]]
    );
  }

  #[test]
  fn a_retry_in_any_part_retries_the_batch() {
    let outcome = send_in_parts(4, |p| {
      if p.len() == 4 {
        Part::RefusedAll("400".into())
      } else {
        Part::Retry("503".into())
      }
    });
    assert!(matches!(outcome, Outcome::Retry { reason } if reason == "503"));
  }

  #[test]
  fn per_item_refusals_map_back_to_batch_indexes() {
    let lines = refused(send_in_parts(6, |p| {
      if p.len() == 6 {
        Part::TooLarge("413".into())
      } else if p[0] == 3 {
        Part::Items {
          refused: vec![1],
          reason: "mapper_parsing_exception".into(),
        }
      } else {
        Part::Stored
      }
    }));
    assert_eq!(lines, vec![4]);
  }
}
