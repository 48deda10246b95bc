//! [`Invocation`]: one simple command after expansion and unwrapping, the unit every rule
//! looks at, and the small option-parsing helpers rules share.

use crate::words::Arg;

/// Where a command's standard input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stdin {
    /// Nothing is piped or redirected in (an agent's shell gives no interactive input).
    Terminal,
    /// Text known now: a heredoc, a here-string, or `echo`/`printf` of literals piped in.
    Literal(String),
    /// A file: `< file` or `cat file |`.
    File(Arg),
    /// The output of another program, only known at run time (named for messages).
    Unknown(String),
}

/// One simple command as it would run.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    /// `args[0]` is the program.
    pub args: Vec<Arg>,
    pub stdin: Stdin,
    /// Files written by redirections (`>`, `>>`, `&>`), `/dev/null` excluded.
    pub writes: Vec<Arg>,
    /// True when standard output goes to a file or another program, not to the agent.
    pub stdout_captured: bool,
    /// The program the output is piped into, if any.
    pub piped_to: Option<String>,
    /// True when the command runs on another machine (`ssh`, `docker exec`, `kubectl exec`).
    pub remote: bool,
    /// An environment named by a wrapper or variable (`railway run -e production`,
    /// `AWS_PROFILE=prod`), lowercase.
    pub environment_hint: Option<String>,
}

impl Invocation {
    /// The program's name: the last path component of `args[0]`.
    pub(crate) fn program(&self) -> &str {
        self.args
            .first()
            .map(|arg| program_name(&arg.text))
            .unwrap_or("")
    }

    /// Everything after the program.
    pub(crate) fn operands(&self) -> &[Arg] {
        self.args.get(1..).unwrap_or(&[])
    }

    /// The same invocation running `args` instead (wrappers, `exec`, `xargs`).
    pub(crate) fn with_args(&self, args: Vec<Arg>) -> Invocation {
        Invocation {
            args,
            ..self.clone()
        }
    }

    /// True when any operand equals one of `names` (`-f`, `--force`), or a short-option
    /// cluster (`-rf`) contains one of `short`.
    pub(crate) fn has_flag(&self, short: &[char], long: &[&str]) -> bool {
        has_flag(self.operands(), short, long)
    }

    /// Operands that are not options, skipping the values of options listed in
    /// `takes_value` (written as `-n`, `--name`). Everything after `--` is an operand.
    pub(crate) fn positionals(&self, takes_value: &[&str]) -> Vec<&Arg> {
        positionals(self.operands(), takes_value)
    }
}

/// The last path component of a program word, without a Windows `.exe`.
pub(crate) fn program_name(text: &str) -> &str {
    let name = text.rsplit('/').next().unwrap_or(text);
    name.strip_suffix(".exe").unwrap_or(name)
}

pub(crate) fn has_flag(args: &[Arg], short: &[char], long: &[&str]) -> bool {
    for arg in args {
        let text = arg.text.as_str();
        if text == "--" {
            return false;
        }
        if let Some(name) = text.strip_prefix("--") {
            let name = name.split('=').next().unwrap_or(name);
            if long.iter().any(|long| long.trim_start_matches('-') == name) {
                return true;
            }
        } else if let Some(cluster) = text.strip_prefix('-')
            && !cluster.is_empty()
            && cluster.chars().all(|c| c.is_ascii_alphanumeric())
            && cluster.chars().any(|c| short.contains(&c))
        {
            return true;
        }
    }
    false
}

/// The value of an option written `--name value`, `--name=value`, `-n value` or `-nvalue`.
pub(crate) fn option_text(args: &[Arg], short: &[&str], long: &[&str]) -> Option<String> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.text.as_str();
        if text == "--" {
            return None;
        }
        if long.iter().chain(short.iter()).any(|name| text == *name) {
            return iter.next().map(|value| value.text.clone());
        }
        for name in long {
            if let Some(rest) = text
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
            {
                return Some(rest.to_owned());
            }
        }
        for name in short {
            if name.len() == 2
                && text.len() > 2
                && text.starts_with(name)
                && !text.starts_with("--")
            {
                return text.get(2..).map(str::to_owned);
            }
        }
    }
    None
}

pub(crate) fn positionals<'a>(args: &'a [Arg], takes_value: &[&str]) -> Vec<&'a Arg> {
    let mut out = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.text.as_str();
        if text == "--" {
            out.extend(iter);
            break;
        }
        if text.starts_with('-') && text.len() > 1 {
            if takes_value.contains(&text) {
                iter.next();
            }
            continue;
        }
        out.push(arg);
    }
    out
}

/// Lowercase texts of the positionals, for matching subcommands.
pub(crate) fn lower_words(args: &[&Arg]) -> Vec<String> {
    args.iter()
        .map(|arg| arg.text.to_ascii_lowercase())
        .collect()
}
