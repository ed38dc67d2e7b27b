//! Progress of long simulator runs on stderr, fed from the run's counters: a
//! bar on a terminal, and a plain line every [`LINE_EVERY`] otherwise (a log
//! file, CI), where a bar would not show at all.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use exos_sim::Counters;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar redrawn by its own thread until [`Progress::finish`].
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How often the plain progress line is printed when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(10);

/// Starts a bar of orders done out of `total` (a spinner when unbounded).
pub fn spawn(counters: Arc<Counters>, total: Option<u64>, label: &'static str) -> Progress {
    if !std::io::stderr().is_terminal() {
        return spawn_lines(counters, total, label);
    }
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::new_spinner(),
    };
    let template = "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} orders (eta {eta}) {msg}";
    if let Ok(style) = ProgressStyle::with_template(if total.is_some() {
        template
    } else {
        "{prefix} [{elapsed_precise}] {pos} orders {msg}"
    }) {
        bar.set_style(style);
    }
    bar.set_prefix(label);
    let done = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&done);
    let thread = std::thread::spawn(move || {
        while !finished.load(Ordering::Relaxed) {
            redraw(&bar, &counters);
            std::thread::sleep(Duration::from_millis(250));
        }
        redraw(&bar, &counters);
        bar.finish();
    });
    Progress {
        done,
        thread: Some(thread),
    }
}

/// Prints a line every [`LINE_EVERY`] and a last one when the run ends.
fn spawn_lines(counters: Arc<Counters>, total: Option<u64>, label: &'static str) -> Progress {
    let done = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&done);
    let thread = std::thread::spawn(move || {
        let started = Instant::now();
        let mut last_line = Instant::now();
        while !finished.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(250));
            if last_line.elapsed() >= LINE_EVERY {
                eprintln!("{}", line(label, &counters, total, started.elapsed()));
                last_line = Instant::now();
            }
        }
        eprintln!("{}", line(label, &counters, total, started.elapsed()));
    });
    Progress {
        done,
        thread: Some(thread),
    }
}

/// Formats one plain progress line: orders done (of the total), records acknowledged
/// and failed, and the mean acknowledged rate so far.
fn line(label: &str, counters: &Counters, total: Option<u64>, elapsed: Duration) -> String {
    let orders = counters.orders_done.load(Ordering::Relaxed);
    let acknowledged = counters.records_acknowledged.load(Ordering::Relaxed);
    let failed = counters.records_failed.load(Ordering::Relaxed);
    let seconds = elapsed.as_secs_f64().max(0.001);
    let of_total = total.map_or(String::new(), |total| format!("/{total}"));
    format!(
        "{label} [{:.0} s] {orders}{of_total} orders, {acknowledged} records acknowledged \
         ({:.0}/s), {failed} failed",
        seconds,
        acknowledged as f64 / seconds
    )
}

fn redraw(bar: &ProgressBar, counters: &Counters) {
    bar.set_position(counters.orders_done.load(Ordering::Relaxed));
    let acknowledged = counters.records_acknowledged.load(Ordering::Relaxed);
    let failed = counters.records_failed.load(Ordering::Relaxed);
    let mut message = format!("{acknowledged} records acknowledged");
    if failed > 0 {
        message.push_str(&format!(", {failed} failed"));
    }
    bar.set_message(message);
}

impl Progress {
    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_gives_counts_and_rate() {
        let counters = Counters::default();
        counters.orders_done.store(250, Ordering::Relaxed);
        counters
            .records_acknowledged
            .store(50_000, Ordering::Relaxed);
        counters.records_failed.store(3, Ordering::Relaxed);
        let text = line("backfill", &counters, Some(1_000), Duration::from_secs(10));
        assert_eq!(
            text,
            "backfill [10 s] 250/1000 orders, 50000 records acknowledged (5000/s), 3 failed"
        );
        let live = line("live", &counters, None, Duration::from_secs(10));
        assert!(live.starts_with("live [10 s] 250 orders,"), "{live}");
    }
}
