//! Wrappers: programs that run another command given as their arguments (`sudo`, `env`,
//! `command`, `builtin`, `exec`, `nohup`, `timeout`, `nice`, `time`, `xargs`, `find -exec`,
//! `watch`, ...). Unwrapping them gives the command that really runs.

use crate::analysis::Walker;
use crate::command::{Invocation, Stdin};
use crate::words::Arg;

/// The commands a wrapper runs, or `None` when `invocation` is not a wrapper (or is one used
/// without a command, such as `env` printing the environment).
pub(crate) fn unwrap(
    invocation: &Invocation,
    walker: &mut Walker<'_, '_>,
) -> Option<Vec<Invocation>> {
    let operands = invocation.operands();
    let rest = match invocation.program() {
        "sudo" | "doas" => skip_options(
            operands,
            &[
                "-u",
                "-g",
                "-h",
                "-p",
                "-C",
                "-D",
                "-r",
                "-t",
                "-U",
                "-T",
                "--user",
                "--group",
                "--host",
                "--prompt",
                "--chdir",
                "--role",
                "--type",
                "--other-user",
                "--close-from",
            ],
        ),
        "env" => {
            let mut rest = skip_options(
                operands,
                &["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
            );
            while rest
                .first()
                .is_some_and(|arg| arg.text.contains('=') && !arg.text.starts_with('='))
            {
                rest = rest.get(1..).unwrap_or(&[]);
            }
            if let Some(split) = option_split_string(operands) {
                let mut args = split;
                args.extend(rest.iter().cloned());
                return Some(vec![invocation.with_args(args)]);
            }
            rest
        }
        "command" => {
            if operands
                .iter()
                .any(|arg| matches!(arg.text.as_str(), "-v" | "-V"))
            {
                return Some(Vec::new());
            }
            skip_options(operands, &[])
        }
        "builtin" | "nohup" | "chronic" | "caffeinate" | "unbuffer" | "setsid" | "then" | "do"
        | "proxychains" | "proxychains4" | "torsocks" | "tsp" | "catchsegv" => {
            skip_options(operands, &[])
        }
        "exec" => skip_options(operands, &["-a"]),
        "time" => skip_options(operands, &["-f", "--format", "-o", "--output"]),
        "nice" => skip_options(operands, &["-n", "--adjustment"]),
        "ionice" => skip_options(operands, &["-c", "-n", "-p", "--class", "--classdata"]),
        "stdbuf" => skip_options(
            operands,
            &["-i", "-o", "-e", "--input", "--output", "--error"],
        ),
        "timeout" | "gtimeout" => {
            let rest = skip_options(operands, &["-s", "-k", "--signal", "--kill-after"]);
            rest.get(1..).unwrap_or(&[])
        }
        "flock" => {
            let rest = skip_options(operands, &["-w", "--timeout", "-E", "--conflict-exit-code"]);
            if rest.get(1).is_some_and(|arg| arg.text == "-c") {
                if let Some(command) = rest.get(2) {
                    walker.walk_script_string(command);
                }
                return Some(Vec::new());
            }
            rest.get(1..).unwrap_or(&[])
        }
        "watch" => {
            let exec = operands
                .iter()
                .any(|arg| matches!(arg.text.as_str(), "-x" | "--exec"));
            let rest = skip_options(operands, &["-n", "--interval", "-d", "--differences"]);
            if rest.is_empty() {
                return Some(Vec::new());
            }
            if !exec {
                let joined = join(rest);
                walker.walk_script_string(&joined);
                return Some(Vec::new());
            }
            rest
        }
        "xargs" => return Some(vec![unwrap_xargs(invocation)]),
        "bundle" | "poetry" | "pipenv" | "pnpm" | "npm" | "pdm" | "hatch" | "rye" => {
            match operands.first().map(|arg| arg.text.as_str()) {
                Some("exec" | "run")
                    if !matches!(invocation.program(), "npm" | "pnpm")
                        || operands.first().is_some_and(|arg| arg.text == "exec") =>
                {
                    skip_options(operands.get(1..).unwrap_or(&[]), &[])
                }
                _ => return None,
            }
        }
        "op" | "doppler" | "infisical" | "aws-vault" | "dotenv" | "direnv" | "with-contenv" => {
            // Secret injectors: `op run -- CMD`, `aws-vault exec PROFILE -- CMD`.
            match operands.iter().position(|arg| arg.text == "--") {
                Some(position) => operands.get(position + 1..).unwrap_or(&[]),
                None if invocation.program() == "direnv"
                    && operands.first().is_some_and(|arg| arg.text == "exec") =>
                {
                    operands.get(2..).unwrap_or(&[])
                }
                None => return None,
            }
        }
        "find" => return unwrap_find(invocation),
        "npx" | "bunx" | "pnpx" => {
            let rest = skip_options(operands, &["-p", "--package", "-c", "--call"]);
            if let Some(call) = crate::command::option_text(operands, &["-c"], &["--call"]) {
                walker.walk_script_string(&Arg::literal(call));
                return Some(Vec::new());
            }
            rest
        }
        _ => return None,
    };
    if rest.is_empty() {
        // A wrapper with nothing to run (`sudo -v`, `nohup`): harmless by itself, except
        // `env`/`exec` whose bare forms print or replace the shell.
        let login_shell = operands
            .iter()
            .any(|arg| matches!(arg.text.as_str(), "-s" | "-i" | "--shell" | "--login"));
        return match invocation.program() {
            "env" => None,
            "sudo" | "doas" if login_shell => {
                Some(vec![invocation.with_args(vec![Arg::literal("sh")])])
            }
            _ => Some(Vec::new()),
        };
    }
    // `sudo VAR=value cmd`: leading assignments set the command's environment.
    let mut rest = rest;
    while rest.first().is_some_and(|arg| is_assignment(&arg.text)) {
        rest = rest.get(1..).unwrap_or(&[]);
    }
    if rest.is_empty() {
        return Some(Vec::new());
    }
    Some(vec![invocation.with_args(rest.to_vec())])
}

/// `NAME=value` with a valid shell variable name.
fn is_assignment(text: &str) -> bool {
    text.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Skips leading options (and the values of those in `takes_value`) up to the first operand.
fn skip_options<'a>(args: &'a [Arg], takes_value: &[&str]) -> &'a [Arg] {
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        let text = arg.text.as_str();
        if text == "--" {
            return args.get(index + 1..).unwrap_or(&[]);
        }
        if !text.starts_with('-') || text == "-" {
            break;
        }
        index += if takes_value.contains(&text) { 2 } else { 1 };
    }
    args.get(index..).unwrap_or(&[])
}

/// `env -S 'cmd args'` splits its string into words.
fn option_split_string(args: &[Arg]) -> Option<Vec<Arg>> {
    let text = crate::command::option_text(args, &["-S"], &["--split-string"])?;
    Some(text.split_whitespace().map(Arg::literal).collect())
}

fn join(args: &[Arg]) -> Arg {
    let mut joined = Arg::default();
    for (index, arg) in args.iter().enumerate() {
        if index > 0 {
            joined.text.push(' ');
        }
        joined.text.push_str(&arg.text);
        joined.dynamic |= arg.dynamic;
    }
    joined
}

/// `xargs [options] cmd args`: the command runs with extra arguments read from stdin.
fn unwrap_xargs(invocation: &Invocation) -> Invocation {
    let operands = invocation.operands();
    let replace = crate::command::option_text(operands, &["-I"], &["--replace"]);
    let rest = skip_options(
        operands,
        &[
            "-I",
            "-n",
            "-P",
            "-L",
            "-s",
            "-d",
            "-E",
            "-a",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
            "--replace",
        ],
    );
    let input = Arg {
        text: "{xargs input}".to_owned(),
        dynamic: true,
        ..Arg::default()
    };
    let mut args: Vec<Arg> = if rest.is_empty() {
        vec![Arg::literal("echo")]
    } else {
        rest.to_vec()
    };
    match replace {
        Some(token) => {
            for arg in args.iter_mut().skip(1) {
                if arg.text.contains(&token) {
                    *arg = input.clone();
                }
            }
        }
        None => args.push(input),
    }
    let mut unwrapped = invocation.with_args(args);
    unwrapped.stdin = Stdin::Terminal;
    unwrapped
}

/// `find ROOTS... -exec cmd {} ;`, `-execdir`, `-ok`, `-delete`: the commands find runs.
fn unwrap_find(invocation: &Invocation) -> Option<Vec<Invocation>> {
    let operands = invocation.operands();
    let roots: Vec<&Arg> = operands
        .iter()
        .take_while(|arg| !arg.text.starts_with('-') && arg.text != "!" && arg.text != "(")
        .collect();
    let root = roots
        .first()
        .map(|arg| (*arg).clone())
        .unwrap_or_else(|| Arg::literal("."));
    // What `{}` stands for: a match under the root, named by `-name` when there is one.
    let name = crate::command::option_text(operands, &[], &["-name", "-iname"])
        .filter(|name| !name.contains('/'));
    let matched = format!(
        "{}/{}",
        root.text.trim_end_matches('/'),
        name.as_deref().unwrap_or("*")
    );
    let mut out = Vec::new();
    let mut index = 0;
    while let Some(arg) = operands.get(index) {
        match arg.text.as_str() {
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let mut args = Vec::new();
                index += 1;
                while let Some(next) = operands.get(index) {
                    if next.text == ";" || next.text == "+" {
                        break;
                    }
                    if next.text.contains("{}") {
                        // Each match lies under the search root: `rm -rf {}` deletes inside it.
                        args.push(Arg {
                            text: matched.clone(),
                            dynamic: root.dynamic,
                            ..Arg::default()
                        });
                    } else {
                        args.push(next.clone());
                    }
                    index += 1;
                }
                if !args.is_empty() {
                    out.push(invocation.with_args(args));
                }
            }
            "-delete" => {
                let filtered = operands.iter().any(|arg| {
                    matches!(
                        arg.text.as_str(),
                        "-name"
                            | "-iname"
                            | "-path"
                            | "-ipath"
                            | "-regex"
                            | "-newer"
                            | "-mtime"
                            | "-mmin"
                            | "-size"
                            | "-empty"
                            | "-type"
                    )
                });
                let mut args = vec![Arg::literal("rm")];
                if !filtered {
                    args.push(Arg::literal("-r"));
                }
                let target = if filtered {
                    matched.clone()
                } else {
                    root.text.clone()
                };
                args.push(Arg {
                    text: target,
                    dynamic: root.dynamic,
                    ..Arg::default()
                });
                out.push(invocation.with_args(args));
            }
            _ => {}
        }
        index += 1;
    }
    if out.is_empty() {
        return None;
    }
    // find itself also reads (its own search is checked by the credential rules).
    out.push(
        invocation.with_args(
            vec![Arg::literal("find")]
                .into_iter()
                .chain(
                    operands
                        .iter()
                        .take_while(|arg| {
                            !matches!(
                                arg.text.as_str(),
                                "-exec" | "-execdir" | "-ok" | "-okdir" | "-delete"
                            )
                        })
                        .cloned(),
                )
                .collect(),
        ),
    );
    Some(out)
}
