//! A progress bar on stderr for long simulator runs, fed from the run's counters.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use exos_sim::Counters;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar redrawn by its own thread until [`Progress::finish`].
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a bar of orders done out of `total` (a spinner when unbounded).
pub fn spawn(counters: Arc<Counters>, total: Option<u64>, label: &'static str) -> Progress {
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
