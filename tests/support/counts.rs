//! Precision and recall counts, shared by `tests/detect_eval.rs` and `tests/detect_corpus.rs`.

/// True and false positives and negatives of one detector rule on one corpus.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
}

impl Counts {
    pub fn add(&mut self, label: bool, flagged: bool) {
        match (label, flagged) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    pub fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    /// One line of figures for `corpus` and `rule`.
    pub fn line(&self, corpus: &str, rule: &str) -> String {
        format!(
            "{corpus:<9} {rule:<13} precision {:.4}  recall {:.4}  (tp {}, fp {}, fn {}, tn {})",
            self.precision(),
            self.recall(),
            self.tp,
            self.fp,
            self.fn_,
            self.tn
        )
    }
}
