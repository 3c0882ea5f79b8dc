//! Questions on a terminal, for `init`: each shows its default in brackets and takes it on an
//! empty answer. Questions go to stderr, so stdout carries only results. When not interactive
//! (`--yes`), every question silently returns its default.

use std::io::{BufRead, Write};

use super::{ExitCode, Failure};

#[derive(Debug, Clone, Copy)]
pub struct Prompter {
    interactive: bool,
}

fn closed() -> Failure {
    Failure::new(
        ExitCode::Other,
        "the terminal closed before init finished: nothing more was changed; run `mem0-mcp init` again",
    )
}

impl Prompter {
    pub fn new(interactive: bool) -> Self {
        Prompter { interactive }
    }

    pub fn interactive(self) -> bool {
        self.interactive
    }

    fn read_line(self, question: &str) -> Result<String, Failure> {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{question}");
        let _ = stderr.flush();
        drop(stderr);
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::new(ExitCode::Other, format!("cannot read the answer: {e}")))?;
        if read == 0 {
            return Err(closed());
        }
        Ok(line.trim().to_owned())
    }

    /// A free-text answer.
    pub fn ask(self, question: &str, default: &str) -> Result<String, Failure> {
        if !self.interactive {
            return Ok(default.to_owned());
        }
        let shown = if default.is_empty() {
            format!("{question}: ")
        } else {
            format!("{question} [{default}]: ")
        };
        let answer = self.read_line(&shown)?;
        Ok(if answer.is_empty() {
            default.to_owned()
        } else {
            answer
        })
    }

    /// One of `options`, asked again until the answer is one of them.
    pub fn choose(
        self,
        question: &str,
        options: &[&str],
        default: &str,
    ) -> Result<String, Failure> {
        if !self.interactive {
            return Ok(default.to_owned());
        }
        loop {
            let answer = self.ask(&format!("{question} ({})", options.join("/")), default)?;
            let lower = answer.to_ascii_lowercase();
            if let Some(option) = options.iter().find(|o| **o == lower) {
                return Ok((*option).to_owned());
            }
            eprintln!("Please answer one of: {}.", options.join(", "));
        }
    }

    /// Yes or no.
    pub fn confirm(self, question: &str, default: bool) -> Result<bool, Failure> {
        if !self.interactive {
            return Ok(default);
        }
        let hint = if default { "[Y/n]" } else { "[y/N]" };
        loop {
            let answer = self.read_line(&format!("{question} {hint} "))?;
            match answer.to_ascii_lowercase().as_str() {
                "" => return Ok(default),
                "y" | "yes" => return Ok(true),
                "n" | "no" => return Ok(false),
                _ => eprintln!("Please answer y or n."),
            }
        }
    }

    /// A hidden answer (passwords); empty when not interactive.
    pub fn secret(self, question: &str) -> Result<String, Failure> {
        if !self.interactive {
            return Ok(String::new());
        }
        rpassword::prompt_password(format!("{question}: ")).map_err(|e| {
            Failure::new(
                ExitCode::Other,
                format!("cannot read from the terminal: {e}"),
            )
        })
    }
}
