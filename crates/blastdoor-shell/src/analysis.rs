//! The walker: parses a command line with `brush-parser`, visits every simple command that
//! would run (pipelines, lists, loops, functions, substitutions, process substitutions),
//! expands its words, unwraps wrappers (`sudo`, `env`, `xargs`, `find -exec`, ...), recurses into
//! nested shells, scripts and interpreters, and hands each resulting [`Invocation`] to the
//! rules. Files written earlier on the same line are remembered, so write-a-script-then-run is
//! seen through.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use blastdoor_core::Risk;
use brush_parser::ast;

use crate::code::Language;
use crate::command::{Invocation, Stdin, program_name};
use crate::rules::{self, Action, Finding};
use crate::words::{self, Arg, Variables};
use crate::{Context, ShellError};

/// Longest command line (or script) analysed; longer ones are unknown.
pub(crate) const MAX_COMMAND_BYTES: usize = 256 * 1024;
/// Largest file read for a script or a request body.
pub(crate) const MAX_FILE_BYTES: usize = 256 * 1024;
/// How deep `bash -c`, scripts, `eval` and interpreters may nest.
pub(crate) const MAX_DEPTH: usize = 8;
/// How many simple commands one analysis visits before giving up.
const MAX_COMMANDS: usize = 4096;
/// The deepest `(` nesting a script may have before it is unparseable: the bash parser
/// backtracks exponentially on deeply nested `(` (found by fuzzing the hook input).
const MAX_PAREN_NESTING: usize = 16;
/// How many hold findings one analysis keeps. Denies are always kept (there are at most a few
/// per command visited); past this many holds, one `shell.unparseable` finding says that some
/// were dropped, so the hold needs two approvers whatever the kept ones say.
const MAX_HOLD_FINDINGS: usize = 64;

/// What the walk found.
#[derive(Debug)]
pub(crate) struct Analysis {
    pub findings: Vec<Finding>,
    /// `Read` when every command is known to only read, `Write` otherwise.
    pub baseline: Risk,
}

pub(crate) fn analyse_command(command: &str, context: &Context<'_>) -> Analysis {
    let mut walker = Walker::new(context);
    walker.walk_script(command);
    walker.finish()
}

pub(crate) fn analyse_file_read(path: &Path, context: &Context<'_>) -> Analysis {
    let mut walker = Walker::new(context);
    walker.baseline = Risk::Read;
    let text = path.to_string_lossy();
    rules::check_file_read(&Arg::literal(text.as_ref()), &mut walker);
    walker.finish()
}

/// What a file read through the context (or written earlier on the line) holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileContents {
    Text(String),
    /// Not valid UTF-8 or contains NUL: a compiled program or data.
    Binary,
    /// Missing, unreadable, too large, dynamic, or written earlier with unknown contents.
    Unknown,
}

/// What a command's standard output will carry, for the next command in a pipeline.
#[derive(Debug, Clone)]
enum Output {
    Literal(String),
    File(Arg),
    Unknown(String),
}

/// Walks one command line; rules report into it.
pub(crate) struct Walker<'c, 'a> {
    context: &'c Context<'a>,
    variables: Variables,
    findings: Vec<Finding>,
    baseline: Risk,
    /// Files written earlier on this command line: known contents or `None`.
    written: HashMap<PathBuf, Option<String>>,
    depth: usize,
    visited: usize,
    /// True while walking a command that runs on another machine.
    remote: bool,
    environment_hint: Option<String>,
    /// Aliases defined earlier on the line.
    aliases: HashMap<String, String>,
    /// Where `cd` moved the shell, if it did.
    cwd: Option<PathBuf>,
    /// True once a hold finding was dropped for [`MAX_HOLD_FINDINGS`].
    overflowed: bool,
}

/// Single-quotes a word for re-parsing.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

impl<'c, 'a> Walker<'c, 'a> {
    fn new(context: &'c Context<'a>) -> Self {
        let home = context.home.map(|home| home.to_string_lossy().into_owned());
        let cwd = context.cwd.to_string_lossy().into_owned();
        Walker {
            context,
            variables: Variables::new(home.as_deref(), &cwd),
            findings: Vec::new(),
            baseline: Risk::Read,
            written: HashMap::new(),
            depth: 0,
            visited: 0,
            remote: false,
            environment_hint: None,
            aliases: HashMap::new(),
            cwd: None,
            overflowed: false,
        }
    }

    fn finish(self) -> Analysis {
        Analysis {
            findings: self.findings,
            baseline: self.baseline,
        }
    }

    /// The context, with the working directory moved by any `cd` earlier on the line.
    pub(crate) fn context(&self) -> Context<'_> {
        Context {
            cwd: self.cwd.as_deref().unwrap_or(self.context.cwd),
            home: self.context.home,
            blastdoor_home: self.context.blastdoor_home,
            files: self.context.files,
        }
    }

    /// Records a finding. A deny is never dropped (the verdict must stay a deny however many
    /// holds came first); holds past [`MAX_HOLD_FINDINGS`] are replaced by one overflow
    /// finding that makes the hold need two approvers.
    pub(crate) fn report(&mut self, finding: Finding) {
        if self.findings.contains(&finding) {
            return;
        }
        let holds = self
            .findings
            .iter()
            .filter(|kept| kept.action == Action::Hold)
            .count();
        if finding.action == Action::Deny || holds < MAX_HOLD_FINDINGS {
            self.findings.push(finding);
        } else if !self.overflowed {
            self.overflowed = true;
            self.findings.push(rules::shell_unparseable::finding(&format!(
                "the command line has more than {MAX_HOLD_FINDINGS} risky actions; not all of them are listed"
            )));
        }
    }

    /// Marks the command line as changing something (it is no longer a plain read).
    pub(crate) fn note_write(&mut self) {
        self.baseline = self.baseline.max(Risk::Write);
    }

    pub(crate) fn home_text(&self) -> Option<String> {
        self.context
            .home
            .map(|home| home.to_string_lossy().into_owned())
    }

    /// Reads a file named by an argument: earlier writes on this line first, then the context.
    pub(crate) fn read_file(&self, arg: &Arg) -> FileContents {
        if arg.dynamic {
            return FileContents::Unknown;
        }
        let path = crate::paths::resolve(&arg.text, &self.context());
        if let Some(written) = self.written.get(&path) {
            return match written {
                Some(text) => FileContents::Text(text.clone()),
                None => FileContents::Unknown,
            };
        }
        match self.context.files.read_bounded(&path, MAX_FILE_BYTES) {
            Some(bytes) if bytes.contains(&0) => FileContents::Binary,
            Some(bytes) => match String::from_utf8(bytes) {
                Ok(text) => FileContents::Text(text),
                Err(_) => FileContents::Binary,
            },
            None => FileContents::Unknown,
        }
    }

    /// Analyses `text` as bash, one level deeper.
    pub(crate) fn walk_script(&mut self, text: &str) {
        if self.depth >= MAX_DEPTH {
            self.report(rules::shell_unparseable::finding(
                &ShellError::TooDeep { limit: MAX_DEPTH }.to_string(),
            ));
            return;
        }
        if text.len() > MAX_COMMAND_BYTES {
            self.report(rules::shell_unparseable::finding(
                &ShellError::TooLong {
                    limit: MAX_COMMAND_BYTES,
                }
                .to_string(),
            ));
            return;
        }
        if paren_nesting(text) > MAX_PAREN_NESTING {
            self.report(rules::shell_unparseable::finding(
                &ShellError::TooDeep {
                    limit: MAX_PAREN_NESTING,
                }
                .to_string(),
            ));
            return;
        }
        let mut parser = brush_parser::Parser::new(Cursor::new(text), &words::parser_options());
        let program = match parser.parse_program() {
            Ok(program) => program,
            Err(error) => {
                self.report(rules::shell_unparseable::finding(
                    &ShellError::Parse(error.to_string()).to_string(),
                ));
                return;
            }
        };
        self.depth += 1;
        for list in &program.complete_commands {
            self.walk_list(list, &Stdin::Terminal);
        }
        self.depth -= 1;
    }

    /// Analyses a command string given as an argument (`bash -c`, `eval`, `ssh host CMD`):
    /// unknown when it is only known at run time.
    ///
    /// The parts only known at run time are still written as `$NAME` / `$(...)` in the text,
    /// so walking it again sees them as dynamic words (a program named `$CMD` is unknown).
    pub(crate) fn walk_script_string(&mut self, arg: &Arg) {
        self.walk_script(&arg.text);
    }

    /// Analyses `code` in an interpreter's language, one level deeper.
    pub(crate) fn walk_code(&mut self, code: &str, language: Language, interpreter: &str) {
        if self.depth >= MAX_DEPTH {
            self.report(rules::shell_unparseable::finding(
                "interpreters nest too deeply",
            ));
            return;
        }
        self.depth += 1;
        rules::interp_inline::check_code(code, language, interpreter, self);
        self.depth -= 1;
    }

    /// Runs what arrives on `stdin` in a shell or interpreter.
    pub(crate) fn walk_stdin_as(
        &mut self,
        stdin: &Stdin,
        language: Option<Language>,
        interpreter: &str,
    ) {
        let text = match stdin {
            Stdin::Terminal => return,
            Stdin::Literal(text) => text.clone(),
            Stdin::File(arg) => match self.read_file(arg) {
                FileContents::Text(text) => text,
                FileContents::Binary | FileContents::Unknown => {
                    self.report(rules::script_contents::unreadable(&arg.text));
                    return;
                }
            },
            Stdin::Unknown(producer) => {
                self.report(rules::shell_pipe_to_interpreter::finding(
                    producer,
                    interpreter,
                ));
                return;
            }
        };
        match language {
            None => self.walk_script(&text),
            Some(language) => self.walk_code(&text, language, interpreter),
        }
    }

    /// Runs the script file named by `arg` (`bash x.sh`, `./deploy.sh`, `source x`).
    pub(crate) fn walk_script_file(&mut self, arg: &Arg, default: Option<Language>) {
        if arg.dynamic {
            self.report(rules::shell_dynamic::finding(&format!(
                "the script `{}` is only known at run time",
                arg.text
            )));
            return;
        }
        match self.read_file(arg) {
            FileContents::Text(text) => {
                let language = shebang_language(&text).unwrap_or(default);
                match language {
                    None => self.walk_script(&text),
                    Some(language) => self.walk_code(&text, language, &arg.text),
                }
            }
            FileContents::Binary => self.note_write(),
            FileContents::Unknown => self.report(rules::script_contents::unreadable(&arg.text)),
        }
    }

    fn walk_list(&mut self, list: &ast::CompoundList, stdin: &Stdin) {
        for item in &list.0 {
            let and_or = &item.0;
            self.walk_pipeline(&and_or.first, stdin);
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(pipeline) | ast::AndOr::Or(pipeline) => {
                        self.walk_pipeline(pipeline, stdin)
                    }
                }
            }
        }
    }

    fn walk_pipeline(&mut self, pipeline: &ast::Pipeline, stdin: &Stdin) {
        let mut input = stdin.clone();
        let count = pipeline.seq.len();
        for (index, command) in pipeline.seq.iter().enumerate() {
            let piped_to = pipeline.seq.get(index + 1).and_then(first_word);
            let captured = index + 1 < count;
            let output = self.walk_command(command, &input, piped_to, captured);
            input = match output {
                Output::Literal(text) => Stdin::Literal(text),
                Output::File(arg) => Stdin::File(arg),
                Output::Unknown(producer) => Stdin::Unknown(producer),
            };
        }
    }

    fn walk_command(
        &mut self,
        command: &ast::Command,
        stdin: &Stdin,
        piped_to: Option<String>,
        captured: bool,
    ) -> Output {
        self.visited += 1;
        if self.visited > MAX_COMMANDS {
            if self.visited == MAX_COMMANDS + 1 {
                self.report(rules::shell_unparseable::finding(
                    "the command line runs too many commands to analyse",
                ));
            }
            return Output::Unknown("a long command".to_owned());
        }
        match command {
            ast::Command::Simple(simple) => self.walk_simple(simple, stdin, piped_to, captured),
            ast::Command::Compound(compound, redirects) => {
                let mut stdin = stdin.clone();
                if let Some(redirects) = redirects {
                    let mut writes = Vec::new();
                    let mut captured_out = false;
                    for redirect in &redirects.0 {
                        self.apply_redirect(redirect, &mut stdin, &mut writes, &mut captured_out);
                    }
                    self.check_writes(&writes, None);
                }
                self.walk_compound(compound, &stdin);
                Output::Unknown("a compound command".to_owned())
            }
            ast::Command::Function(function) => {
                self.walk_compound(&function.body.0, &Stdin::Terminal);
                Output::Unknown("a function".to_owned())
            }
            ast::Command::ExtendedTest(test, _) => {
                self.walk_extended_test(&test.expr);
                Output::Unknown("a test".to_owned())
            }
        }
    }

    fn walk_extended_test(&mut self, expr: &ast::ExtendedTestExpr) {
        match expr {
            ast::ExtendedTestExpr::And(left, right) | ast::ExtendedTestExpr::Or(left, right) => {
                self.walk_extended_test(left);
                self.walk_extended_test(right);
            }
            ast::ExtendedTestExpr::Not(inner) | ast::ExtendedTestExpr::Parenthesized(inner) => {
                self.walk_extended_test(inner)
            }
            ast::ExtendedTestExpr::UnaryTest(_, word) => {
                self.expand_word(word);
            }
            ast::ExtendedTestExpr::BinaryTest(_, left, right) => {
                self.expand_word(left);
                self.expand_word(right);
            }
        }
    }

    fn walk_compound(&mut self, compound: &ast::CompoundCommand, stdin: &Stdin) {
        match compound {
            ast::CompoundCommand::BraceGroup(group) => self.walk_list(&group.list, stdin),
            ast::CompoundCommand::Subshell(subshell) => self.walk_list(&subshell.list, stdin),
            ast::CompoundCommand::ForClause(clause) => {
                let mut dynamic = false;
                let mut values = Vec::new();
                for word in clause.values.iter().flatten() {
                    for arg in self.expand_word(word) {
                        dynamic |= arg.dynamic;
                        values.push(arg.text);
                    }
                }
                // The loop variable takes each value in turn; one known value is enough to
                // see a destructive body, and a dynamic list makes it unknown.
                let value = if dynamic || values.len() != 1 {
                    None
                } else {
                    values.pop()
                };
                self.variables.set(&clause.variable_name, value);
                self.walk_list(&clause.body.list, stdin);
            }
            ast::CompoundCommand::ArithmeticForClause(clause) => {
                self.walk_list(&clause.body.list, stdin)
            }
            ast::CompoundCommand::CaseClause(clause) => {
                self.expand_word(&clause.value);
                for case in &clause.cases {
                    if let Some(list) = &case.cmd {
                        self.walk_list(list, stdin);
                    }
                }
            }
            ast::CompoundCommand::IfClause(clause) => {
                self.walk_list(&clause.condition, stdin);
                self.walk_list(&clause.then, stdin);
                for branch in clause.elses.iter().flatten() {
                    if let Some(condition) = &branch.condition {
                        self.walk_list(condition, stdin);
                    }
                    self.walk_list(&branch.body, stdin);
                }
            }
            ast::CompoundCommand::WhileClause(clause)
            | ast::CompoundCommand::UntilClause(clause) => {
                self.walk_list(&clause.0, stdin);
                self.walk_list(&clause.1.list, stdin);
            }
            ast::CompoundCommand::Arithmetic(arithmetic) => {
                // `( (cmd) )` comes out of the parser as arithmetic; bash runs it as nested
                // subshells when it is not valid arithmetic. Walk it as commands then.
                let expression = &arithmetic.expr.value;
                if brush_parser::arithmetic::parse(expression).is_err() {
                    self.walk_script(expression);
                } else {
                    for substitution in words::substitutions_in(expression) {
                        self.walk_script(&substitution);
                    }
                }
            }
            ast::CompoundCommand::Coprocess(coprocess) => {
                self.walk_command(&coprocess.body, stdin, None, true);
            }
        }
    }

    /// Expands a word and walks the command substitutions inside it.
    fn expand_word(&mut self, word: &ast::Word) -> Vec<Arg> {
        let home = self.home_text();
        let args = words::expand(&word.value, &self.variables, home.as_deref());
        self.walk_substitutions(&args);
        args
    }

    fn walk_substitutions(&mut self, args: &[Arg]) {
        for arg in args {
            for substitution in &arg.substitutions {
                self.walk_script(substitution);
            }
        }
    }

    fn walk_simple(
        &mut self,
        simple: &ast::SimpleCommand,
        stdin: &Stdin,
        piped_to: Option<String>,
        captured: bool,
    ) -> Output {
        let mut stdin = stdin.clone();
        let mut writes = Vec::new();
        let mut stdout_captured = captured;
        let mut args = Vec::new();
        let mut assignments = Vec::new();
        let mut environment_hint = self.environment_hint.clone();

        let prefix = simple.prefix.iter().flat_map(|prefix| prefix.0.iter());
        for item in prefix {
            match item {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(assignment, _) => {
                    let (name, value) = self.expand_assignment(assignment);
                    if let Some(hint) = environment_from_variable(&name, value.as_deref()) {
                        environment_hint = Some(hint);
                    }
                    assignments.push((name, value));
                }
                other => self.apply_item(
                    other,
                    &mut args,
                    &mut stdin,
                    &mut writes,
                    &mut stdout_captured,
                ),
            }
        }
        if let Some(word) = &simple.word_or_name {
            args.extend(self.expand_word(word));
        }
        for item in simple.suffix.iter().flat_map(|suffix| suffix.0.iter()) {
            self.apply_item(
                item,
                &mut args,
                &mut stdin,
                &mut writes,
                &mut stdout_captured,
            );
        }

        if args.is_empty() {
            // `NAME=value` on its own sets a shell variable for what follows.
            for (name, value) in assignments {
                self.variables.set(&name, value);
            }
            self.check_writes(&writes, None);
            return Output::Literal(String::new());
        }
        let invocation = Invocation {
            args,
            stdin,
            writes,
            stdout_captured,
            piped_to,
            remote: self.remote,
            environment_hint,
        };
        let output = output_of(&invocation);
        let literal = match &output {
            Output::Literal(text) => Some(text.clone()),
            _ => None,
        };
        self.check_writes(&invocation.writes, literal);
        self.dispatch(invocation, 0);
        output
    }

    fn expand_assignment(&mut self, assignment: &ast::Assignment) -> (String, Option<String>) {
        let name = match &assignment.name {
            ast::AssignmentName::VariableName(name) => name.clone(),
            ast::AssignmentName::ArrayElementName(name, _) => name.clone(),
        };
        let home = self.home_text();
        let value = match &assignment.value {
            ast::AssignmentValue::Scalar(word) => {
                let arg = words::expand_single(&word.value, &self.variables, home.as_deref());
                self.walk_substitutions(std::slice::from_ref(&arg));
                if arg.dynamic { None } else { Some(arg.text) }
            }
            ast::AssignmentValue::Array(elements) => {
                for (_, word) in elements {
                    self.expand_word(word);
                }
                None
            }
        };
        (name, value)
    }

    fn apply_item(
        &mut self,
        item: &ast::CommandPrefixOrSuffixItem,
        args: &mut Vec<Arg>,
        stdin: &mut Stdin,
        writes: &mut Vec<Arg>,
        stdout_captured: &mut bool,
    ) {
        match item {
            ast::CommandPrefixOrSuffixItem::IoRedirect(redirect) => {
                self.apply_redirect(redirect, stdin, writes, stdout_captured)
            }
            ast::CommandPrefixOrSuffixItem::Word(word) => args.extend(self.expand_word(word)),
            ast::CommandPrefixOrSuffixItem::AssignmentWord(_, word) => {
                args.extend(self.expand_word(word))
            }
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, subshell) => {
                self.walk_list(&subshell.list, &Stdin::Terminal);
                args.push(Arg {
                    text: "/dev/fd/63".to_owned(),
                    dynamic: true,
                    ..Arg::default()
                });
            }
        }
    }

    fn apply_redirect(
        &mut self,
        redirect: &ast::IoRedirect,
        stdin: &mut Stdin,
        writes: &mut Vec<Arg>,
        stdout_captured: &mut bool,
    ) {
        let home = self.home_text();
        match redirect {
            ast::IoRedirect::File(fd, kind, target) => {
                let arg = match target {
                    ast::IoFileRedirectTarget::Filename(word) => {
                        let arg =
                            words::expand_single(&word.value, &self.variables, home.as_deref());
                        self.walk_substitutions(std::slice::from_ref(&arg));
                        arg
                    }
                    ast::IoFileRedirectTarget::ProcessSubstitution(_, subshell) => {
                        self.walk_list(&subshell.list, &Stdin::Terminal);
                        if matches!(kind, ast::IoFileRedirectKind::Read) && fd.unwrap_or(0) == 0 {
                            *stdin = Stdin::Unknown("a process substitution".to_owned());
                        }
                        return;
                    }
                    ast::IoFileRedirectTarget::Fd(_) | ast::IoFileRedirectTarget::Duplicate(_) => {
                        return;
                    }
                };
                match kind {
                    ast::IoFileRedirectKind::Read => {
                        if fd.unwrap_or(0) == 0 {
                            *stdin = Stdin::File(arg);
                        }
                    }
                    ast::IoFileRedirectKind::Write
                    | ast::IoFileRedirectKind::Append
                    | ast::IoFileRedirectKind::Clobber
                    | ast::IoFileRedirectKind::ReadAndWrite => {
                        if matches!(
                            kind,
                            ast::IoFileRedirectKind::Write | ast::IoFileRedirectKind::Clobber
                        ) {
                            rules::fs_delete_outside::check_truncating_redirect(
                                &arg,
                                self.remote,
                                self,
                            );
                        }
                        if fd.unwrap_or(1) == 1 {
                            *stdout_captured = true;
                        }
                        if arg.text != "/dev/null"
                            && arg.text != "/dev/stderr"
                            && arg.text != "/dev/stdout"
                        {
                            writes.push(arg);
                        }
                    }
                    ast::IoFileRedirectKind::DuplicateInput
                    | ast::IoFileRedirectKind::DuplicateOutput => {}
                }
            }
            ast::IoRedirect::HereDocument(fd, here) => {
                let body = if here.requires_expansion {
                    let arg = expand_heredoc(&here.doc.value, &self.variables, home.as_deref());
                    self.walk_substitutions(std::slice::from_ref(&arg));
                    arg.text
                } else {
                    here.doc.value.clone()
                };
                if fd.unwrap_or(0) == 0 {
                    *stdin = Stdin::Literal(body);
                }
            }
            ast::IoRedirect::HereString(fd, word) => {
                let arg = words::expand_single(&word.value, &self.variables, home.as_deref());
                self.walk_substitutions(std::slice::from_ref(&arg));
                if fd.unwrap_or(0) == 0 {
                    *stdin = if arg.dynamic {
                        Stdin::Unknown("a here-string with run-time values".to_owned())
                    } else {
                        Stdin::Literal(format!("{}\n", arg.text))
                    };
                }
            }
            ast::IoRedirect::OutputAndError(word, append) => {
                let arg = words::expand_single(&word.value, &self.variables, home.as_deref());
                self.walk_substitutions(std::slice::from_ref(&arg));
                if !append {
                    rules::fs_delete_outside::check_truncating_redirect(&arg, self.remote, self);
                }
                *stdout_captured = true;
                if arg.text != "/dev/null" {
                    writes.push(arg);
                }
            }
        }
    }

    /// Checks redirection targets and remembers what was written.
    fn check_writes(&mut self, writes: &[Arg], contents: Option<String>) {
        for arg in writes {
            self.note_write();
            rules::check_write_target(arg, self);
            if !arg.dynamic {
                let path = crate::paths::resolve(&arg.text, &self.context());
                self.written.insert(path, contents.clone());
            }
        }
    }

    /// Records that a program wrote `arg` with unknown contents (`curl -o`, `cp`, `tee`).
    pub(crate) fn forget_file(&mut self, arg: &Arg, contents: Option<String>) {
        if !arg.dynamic {
            let path = crate::paths::resolve(&arg.text, &self.context());
            self.written.insert(path, contents);
        }
    }

    /// Unwraps wrappers and nested interpreters, then applies the rules.
    pub(crate) fn dispatch(&mut self, invocation: Invocation, unwrapped: usize) {
        let Some(program_arg) = invocation.args.first() else {
            return;
        };
        if program_arg.glob && program_arg.text != "[" {
            self.report(rules::shell_dynamic::finding(&format!(
                "the program `{}` is a file-name pattern, only resolved at run time",
                program_arg.text
            )));
            return;
        }
        if program_arg.dynamic {
            self.report(rules::shell_dynamic::finding(&format!(
                "the program `{}` is only known at run time",
                program_arg.text
            )));
            return;
        }
        // The rules read flags from the arguments; a word that could become any arguments at
        // all (a brace expansion too large to follow) hides them. The rules still run, so a
        // deny they find stands.
        if let Some(unknowable) = invocation.args.iter().find(|arg| arg.unexpanded) {
            self.report(rules::shell_dynamic::finding(&format!(
                "the word `{}` expands to arguments that are only known at run time",
                unknowable.text
            )));
        }
        if let Some(computed) = computed_flag_position(&invocation) {
            self.report(rules::shell_dynamic::finding(&format!(
                "`{}` gets the argument `{}`, computed at run time, where a flag such as \
                 `-delete` or `--force` could stand",
                invocation.program(),
                computed.text
            )));
        }
        if unwrapped > 32 {
            self.report(rules::shell_unparseable::finding(
                "too many nested wrappers",
            ));
            return;
        }
        if self.track_definitions(&invocation) {
            return;
        }
        if let Some(inner) = crate::wrappers::unwrap(&invocation, self) {
            for next in inner {
                self.dispatch(next, unwrapped + 1);
            }
            return;
        }
        rules::db_orm::check(&invocation, self);
        if crate::interpreters::recurse(&invocation, self) {
            return;
        }
        rules::check_invocation(&invocation, self);
    }

    /// `export NAME=value`, `alias name='cmd'`, and running a defined alias. Returns true when
    /// the invocation was fully handled here.
    fn track_definitions(&mut self, invocation: &Invocation) -> bool {
        let program = invocation.program().to_owned();
        match program.as_str() {
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                for arg in invocation.operands() {
                    if let Some((name, value)) = arg.text.split_once('=') {
                        let value = if arg.dynamic {
                            None
                        } else {
                            Some(value.to_owned())
                        };
                        self.variables.set(name, value);
                    }
                }
                false
            }
            "cd" | "pushd" | "chdir" => {
                let target = invocation
                    .positionals(&[])
                    .first()
                    .map(|arg| (*arg).clone());
                self.cwd = Some(match target {
                    None => self
                        .context
                        .home
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| PathBuf::from("/~unknown-home")),
                    Some(arg) if arg.dynamic || arg.text == "-" => {
                        PathBuf::from("/~unknown-directory")
                    }
                    Some(arg) => crate::paths::resolve(&arg.text, &self.context()),
                });
                true
            }
            "alias" => {
                for arg in invocation.operands() {
                    if let Some((name, value)) = arg.text.split_once('=')
                        && self.aliases.len() < 64
                    {
                        self.aliases.insert(name.to_owned(), value.to_owned());
                    }
                }
                true
            }
            _ => match self.aliases.get(&program).cloned() {
                Some(expansion) => {
                    let mut text = expansion;
                    for arg in invocation.operands() {
                        text.push(' ');
                        text.push_str(&quote(&arg.text));
                    }
                    // An alias expands once: remove it while its expansion is walked.
                    let saved = self.aliases.remove(&program);
                    self.walk_script(&text);
                    if let Some(saved) = saved {
                        self.aliases.insert(program, saved);
                    }
                    true
                }
                None => false,
            },
        }
    }

    /// Runs `f` with the walker marked as running on another machine.
    pub(crate) fn remotely(&mut self, environment_hint: Option<String>, f: impl FnOnce(&mut Self)) {
        let saved = (self.remote, self.environment_hint.clone());
        self.remote = true;
        if environment_hint.is_some() {
            self.environment_hint = environment_hint;
        }
        f(self);
        self.remote = saved.0;
        self.environment_hint = saved.1;
    }
}

impl std::fmt::Debug for Walker<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walker")
            .field("findings", &self.findings)
            .finish_non_exhaustive()
    }
}

/// The program word of a command, for "piped into" checks.
fn first_word(command: &ast::Command) -> Option<String> {
    match command {
        ast::Command::Simple(simple) => simple.word_or_name.as_ref().map(|word| {
            let unquoted = brush_parser::unquote_str(&word.value);
            program_name(&unquoted).to_owned()
        }),
        _ => None,
    }
}

/// What a command prints, when that is known without running it.
fn output_of(invocation: &Invocation) -> Output {
    let program = invocation.program();
    let operands = invocation.operands();
    let all_literal = operands.iter().all(|arg| !arg.dynamic);
    match program {
        "echo" if all_literal => {
            let words: Vec<&str> = operands
                .iter()
                .map(|arg| arg.text.as_str())
                .skip_while(|text| matches!(*text, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            let escapes = operands
                .iter()
                .any(|arg| matches!(arg.text.as_str(), "-e" | "-ne" | "-en"));
            let text = words.join(" ");
            Output::Literal(if escapes {
                words::decode_ansi_c(&text)
            } else {
                text
            })
        }
        "printf" if all_literal => {
            let mut words = operands.iter().map(|arg| arg.text.as_str());
            let format = words.next().unwrap_or("");
            let rest: Vec<&str> = words.collect();
            let text = if format.contains("%s") || format.contains("%b") {
                let mut out = format.to_owned();
                for value in &rest {
                    out = out.replacen("%s", value, 1).replacen("%b", value, 1);
                }
                out
            } else {
                format.to_owned()
            };
            Output::Literal(words::decode_ansi_c(&text))
        }
        "cat" if operands.is_empty() => match &invocation.stdin {
            Stdin::Literal(text) => Output::Literal(text.clone()),
            Stdin::File(arg) => Output::File(arg.clone()),
            Stdin::Unknown(producer) => Output::Unknown(producer.clone()),
            Stdin::Terminal => Output::Unknown("cat".to_owned()),
        },
        "cat" if operands.len() == 1 => match operands.first() {
            Some(arg) if !arg.dynamic && arg.text != "-" => Output::File(arg.clone()),
            _ => Output::Unknown("cat".to_owned()),
        },
        other => Output::Unknown(other.to_owned()),
    }
}

/// Expands a heredoc body that is subject to expansion (unquoted delimiter).
fn expand_heredoc(body: &str, variables: &Variables, home: Option<&str>) -> Arg {
    match brush_parser::word::parse_heredoc(body, &words::parser_options()) {
        Ok(_) => {
            let quoted = format!("\"{}\"", body.replace('\\', "\\\\").replace('"', "\\\""));
            let mut arg = words::expand_single(&quoted, variables, home);
            if arg.substitutions.is_empty() && !body.contains("$(") && !body.contains('`') {
                // No substitutions: keep the body's text, with known variables filled in.
                arg.text = arg.text.replace("\\\\", "\\");
            }
            arg
        }
        Err(_) => Arg {
            text: body.to_owned(),
            dynamic: true,
            ..Arg::default()
        },
    }
}

/// An environment named by a variable such as `AWS_PROFILE=prod` or `RAILWAY_ENVIRONMENT=staging`.
fn environment_from_variable(name: &str, value: Option<&str>) -> Option<String> {
    let names = [
        "AWS_PROFILE",
        "RAILWAY_ENVIRONMENT",
        "ENVIRONMENT",
        "ENV",
        "NODE_ENV",
        "RAILS_ENV",
        "APP_ENV",
        "KUBECONTEXT",
        "CLOUDSDK_ACTIVE_CONFIG_NAME",
    ];
    if names.contains(&name) {
        return Some(value.unwrap_or("unknown").to_ascii_lowercase());
    }
    None
}

/// The language a script's `#!` line names, if it names a non-shell interpreter;
/// `Some(None)` for a shell.
fn shebang_language(text: &str) -> Option<Option<Language>> {
    let line = text.lines().next()?.strip_prefix("#!")?;
    let mut words = line.split_whitespace();
    let mut interpreter = program_name(words.next()?);
    if interpreter == "env" {
        interpreter = words
            .find(|word| !word.starts_with('-'))
            .map(program_name)
            .unwrap_or("");
    }
    Some(crate::interpreters::language_of(interpreter))
}

/// The deepest nesting of `(` in `text`, quotes ignored (an over-estimate is safe: it only
/// makes a script unparseable, which holds it).
fn paren_nesting(text: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for c in text.chars() {
        match c {
            '(' => {
                depth = depth.saturating_add(1);
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// For the programs whose flags alone make them destructive (`find ... -delete`,
/// `git push --force`): an argument that is a command's output (`$(...)`, backquotes) standing
/// where a flag could stand. Its text is only known at run time, and the rules, which read
/// flags, would take it for an inert operand. Variables (`"$DIR"`) are left to the rules: agents
/// pass paths and messages that way all the time. For `find`, the value after a primary that
/// takes one (`-name "$(...)"`) is not a flag position.
fn computed_flag_position(invocation: &Invocation) -> Option<&Arg> {
    const FIND_TAKES_VALUE: &[&str] = &[
        "-name",
        "-iname",
        "-path",
        "-ipath",
        "-wholename",
        "-iwholename",
        "-regex",
        "-iregex",
        "-type",
        "-xtype",
        "-size",
        "-mtime",
        "-mmin",
        "-atime",
        "-amin",
        "-ctime",
        "-cmin",
        "-newer",
        "-user",
        "-group",
        "-perm",
        "-maxdepth",
        "-mindepth",
        "-uid",
        "-gid",
        "-links",
        "-inum",
        "-samefile",
        "-fstype",
        "-printf",
        "-fprint",
        "-fprintf",
        "-lname",
        "-ilname",
        "-context",
        "-used",
    ];
    let computed =
        |arg: &Arg| arg.dynamic && (arg.text.starts_with("$(") || arg.text.starts_with('`'));
    let operands = invocation.operands();
    match invocation.program() {
        "find" => operands.iter().enumerate().find_map(|(index, arg)| {
            let after_primary = index
                .checked_sub(1)
                .and_then(|previous| operands.get(previous))
                .is_some_and(|previous| FIND_TAKES_VALUE.contains(&previous.text.as_str()));
            (computed(arg) && !after_primary).then_some(arg)
        }),
        "git" => match crate::rules::git_force_push::git_subcommand(invocation) {
            // `args` is the tail of the operands after `push`: look there, in place.
            Some((subcommand, args)) if subcommand == "push" => operands
                .get(operands.len().saturating_sub(args.len())..)
                .and_then(|after_push| after_push.iter().find(|arg| computed(arg))),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use blastdoor_core::Decision;

    use crate::rules::testing::{CWD, check, files};
    use crate::{Context, assess_command};

    fn many(command: impl Fn(usize) -> String, count: usize) -> String {
        (0..count).map(command).collect::<Vec<_>>().join("; ")
    }

    fn decision(command: &str) -> Decision {
        let files = files();
        let context = Context {
            cwd: Path::new(CWD),
            home: Some(Path::new("/home/u")),
            blastdoor_home: Some(Path::new("/home/u/.blastdoor")),
            files: &files,
        };
        assess_command(command, &context).verdict.decision
    }

    #[test]
    fn a_deny_after_many_holds_is_kept() {
        let holds = many(|n| format!("rm -rf /srv/data{n}"), 70);
        check(
            &format!("{holds}; cat ~/.aws/credentials"),
            "deny cred.file-read",
        );
        check(
            &format!("cat ~/.aws/credentials; {holds}"),
            "deny cred.file-read",
        );
    }

    #[test]
    fn too_many_findings_hold_for_two_approvers() {
        // Each of these alone is a one-approver hold inside the workspace; past the cap the
        // findings not kept could be anything, so the hold needs two approvers.
        match decision("rm -rf src/dir0") {
            Decision::Hold { approvals } => assert_eq!(approvals.get(), 1),
            other => panic!("{other:?}"),
        }
        let holds = many(|n| format!("rm -rf src/dir{n}"), 70);
        check(&holds, "hold shell.unparseable");
        match decision(&holds) {
            Decision::Hold { approvals } => assert_eq!(approvals.get(), 2),
            other => panic!("{other:?}"),
        }
    }
}
