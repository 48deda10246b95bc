//! Reads the HTTP request a `curl`, `wget` or HTTPie (`http`, `https`, `xh`) command would
//! send: method, URLs and body, with `-d @file` and `--post-file` read through the file
//! source (bounded) and `-d @-` taken from stdin.

use crate::analysis::{FileContents, Walker};
use crate::command::{Invocation, Stdin};
use crate::words::Arg;

/// A request body, or the part of one that is only known at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    Known(String),
    Unknown(String),
}

/// The request a command would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpRequest {
    pub program: String,
    /// Uppercase.
    pub method: String,
    pub urls: Vec<String>,
    pub bodies: Vec<Body>,
}

const CURL_TAKES_VALUE: &[&str] = &[
    "-H",
    "--header",
    "-o",
    "--output",
    "-u",
    "--user",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
    "-b",
    "--cookie",
    "-c",
    "--cookie-jar",
    "-w",
    "--write-out",
    "--connect-timeout",
    "-m",
    "--max-time",
    "--retry",
    "--retry-delay",
    "-x",
    "--proxy",
    "--cacert",
    "--cert",
    "--key",
    "-r",
    "--range",
    "--resolve",
    "--limit-rate",
    "-U",
    "--proxy-user",
    "-E",
    "--oauth2-bearer",
    "--aws-sigv4",
    "--variable",
    "--connect-to",
    "--interface",
    "--dns-servers",
    "-Y",
    "-y",
    "--max-filesize",
    "--retry-max-time",
    "--unix-socket",
    "--capath",
    "--pinnedpubkey",
    "--ciphers",
    "-z",
    "--time-cond",
    "--trace",
    "--trace-ascii",
    "--stderr",
    "-D",
    "--dump-header",
    "--local-port",
    "-P",
    "--ftp-port",
    "--netrc-file",
    "--hostpubmd5",
    "--pubkey",
    "--tls-max",
    "--expect100-timeout",
    "--keepalive-time",
];

const CURL_DATA: &[&str] = &[
    "-d",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-ascii",
    "--data-urlencode",
    "--json",
    "-F",
    "--form",
    "--form-string",
];

/// The request, if `invocation` is an HTTP client we read.
pub(crate) fn read(invocation: &Invocation, walker: &Walker<'_, '_>) -> Option<HttpRequest> {
    match invocation.program() {
        "curl" => Some(curl(invocation, walker)),
        "wget" => Some(wget(invocation, walker)),
        "http" | "https" | "xh" | "xhs" | "httpie" => Some(httpie(invocation, walker)),
        _ => None,
    }
}

fn curl(invocation: &Invocation, walker: &Walker<'_, '_>) -> HttpRequest {
    let operands = invocation.operands();
    let mut method: Option<String> = None;
    let mut urls = Vec::new();
    let mut bodies = Vec::new();
    let mut get = false;
    let mut index = 0;
    while let Some(arg) = operands.get(index) {
        let text = arg.text.as_str();
        index += 1;
        if let Some(value) = text
            .strip_prefix("-X")
            .filter(|value| !value.is_empty() && !text.starts_with("--"))
        {
            method = Some(value.to_ascii_uppercase());
            continue;
        }
        if let Some(value) = text.strip_prefix("--request=") {
            method = Some(value.to_ascii_uppercase());
            continue;
        }
        if text == "-X" || text == "--request" {
            method = operands
                .get(index)
                .map(|value| value.text.to_ascii_uppercase());
            index += 1;
            continue;
        }
        if text == "-G" || text == "--get" {
            get = true;
            continue;
        }
        if text == "-I" || text == "--head" {
            method.get_or_insert_with(|| "HEAD".to_owned());
            continue;
        }
        if text == "--url" {
            if let Some(url) = operands.get(index) {
                urls.push(url.text.clone());
            }
            index += 1;
            continue;
        }
        if text == "-K" || text == "--config" {
            bodies.push(Body::Unknown(
                "a curl config file can set any option".to_owned(),
            ));
            index += 1;
            continue;
        }
        if text == "-T" || text == "--upload-file" {
            if let Some(file) = operands.get(index) {
                bodies.push(file_body(file, invocation, walker));
            }
            method.get_or_insert_with(|| "PUT".to_owned());
            index += 1;
            continue;
        }
        let (flag, value) = if let Some((flag, value)) = split_long(text, CURL_DATA) {
            (
                flag,
                Some(Arg {
                    text: value.to_owned(),
                    ..arg.clone()
                }),
            )
        } else if CURL_DATA.contains(&text) {
            let value = operands.get(index).cloned();
            index += 1;
            (text, value)
        } else if let Some(value) = text
            .strip_prefix("-d")
            .filter(|value| !value.is_empty() && !text.starts_with("--"))
        {
            (
                "-d",
                Some(Arg {
                    text: value.to_owned(),
                    ..arg.clone()
                }),
            )
        } else {
            if CURL_TAKES_VALUE.contains(&text) {
                index += 1;
            } else if !text.starts_with('-') || text == "-" {
                urls.push(arg.text.clone());
            }
            continue;
        };
        let Some(value) = value else { continue };
        let literal = flag == "--data-raw" || flag == "--form-string";
        let is_form = flag == "-F" || flag == "--form";
        let file = if is_form {
            value
                .text
                .split_once("=@")
                .map(|(_, file)| file.to_owned())
                .or_else(|| value.text.split_once("=<").map(|(_, file)| file.to_owned()))
        } else if literal {
            None
        } else {
            value.text.strip_prefix('@').map(str::to_owned)
        };
        let file = file.or_else(|| {
            if flag == "--data-urlencode" {
                value
                    .text
                    .split_once('@')
                    .filter(|(name, _)| !name.contains('='))
                    .map(|(_, file)| file.to_owned())
            } else {
                None
            }
        });
        match file {
            Some(file) => bodies.push(file_body(
                &Arg {
                    text: file,
                    ..value.clone()
                },
                invocation,
                walker,
            )),
            None => bodies.push(arg_body(&value)),
        }
    }
    let method = method.unwrap_or_else(|| {
        if bodies.is_empty() || get {
            "GET".to_owned()
        } else {
            "POST".to_owned()
        }
    });
    HttpRequest {
        program: "curl".to_owned(),
        method,
        urls,
        bodies,
    }
}

fn split_long<'t>(text: &'t str, flags: &[&'static str]) -> Option<(&'static str, &'t str)> {
    flags.iter().find_map(|flag| {
        if !flag.starts_with("--") {
            return None;
        }
        text.strip_prefix(flag)
            .and_then(|rest| rest.strip_prefix('='))
            .map(|value| (*flag, value))
    })
}

fn arg_body(arg: &Arg) -> Body {
    let only_variable = arg.dynamic
        && (arg.text.starts_with('$') && !arg.text.contains(['{', ' ', ':'])
            || !arg.substitutions.is_empty()
                && arg.text.trim().starts_with("$(")
                && arg.text.trim().ends_with(')'));
    if only_variable {
        Body::Unknown(format!("the body `{}` is only known at run time", arg.text))
    } else {
        Body::Known(arg.text.clone())
    }
}

fn file_body(file: &Arg, invocation: &Invocation, walker: &Walker<'_, '_>) -> Body {
    if file.text == "-" {
        return match &invocation.stdin {
            Stdin::Literal(text) => Body::Known(text.clone()),
            Stdin::File(arg) => read_body(arg, walker),
            Stdin::Unknown(producer) => {
                Body::Unknown(format!("the body comes from `{producer}` at run time"))
            }
            Stdin::Terminal => Body::Known(String::new()),
        };
    }
    read_body(file, walker)
}

fn read_body(file: &Arg, walker: &Walker<'_, '_>) -> Body {
    match walker.read_file(file) {
        FileContents::Text(text) => Body::Known(text),
        FileContents::Binary => Body::Unknown(format!("the body file `{}` is binary", file.text)),
        FileContents::Unknown => {
            Body::Unknown(format!("the body file `{}` could not be read", file.text))
        }
    }
}

fn wget(invocation: &Invocation, walker: &Walker<'_, '_>) -> HttpRequest {
    let operands = invocation.operands();
    let mut method = None;
    let mut urls = Vec::new();
    let mut bodies = Vec::new();
    let takes_value = [
        "-O",
        "--output-document",
        "-o",
        "--output-file",
        "--header",
        "-U",
        "--user-agent",
        "--user",
        "--password",
        "-P",
        "--directory-prefix",
        "-t",
        "--tries",
        "-T",
        "--timeout",
        "--referer",
        "-e",
        "--execute",
        "-i",
        "--input-file",
    ];
    let mut index = 0;
    while let Some(arg) = operands.get(index) {
        let text = arg.text.as_str();
        index += 1;
        let (name, inline) = match text.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (text, None),
        };
        let mut value = || -> Option<Arg> {
            match &inline {
                Some(value) => Some(Arg {
                    text: value.clone(),
                    ..arg.clone()
                }),
                None => {
                    let next = operands.get(index).cloned();
                    index += 1;
                    next
                }
            }
        };
        match name {
            "--method" => method = value().map(|value| value.text.to_ascii_uppercase()),
            "--post-data" | "--body-data" => {
                if let Some(value) = value() {
                    bodies.push(arg_body(&value));
                }
                method.get_or_insert_with(|| "POST".to_owned());
            }
            "--post-file" | "--body-file" => {
                if let Some(file) = value() {
                    bodies.push(file_body(&file, invocation, walker));
                }
                method.get_or_insert_with(|| "POST".to_owned());
            }
            "-i" | "--input-file" => {
                value();
                bodies.push(Body::Unknown("wget reads its URLs from a file".to_owned()));
            }
            _ if takes_value.contains(&name) && inline.is_none() => index += 1,
            _ if text.starts_with('-') => {}
            _ => urls.push(arg.text.clone()),
        }
    }
    HttpRequest {
        program: "wget".to_owned(),
        method: method.unwrap_or_else(|| "GET".to_owned()),
        urls,
        bodies,
    }
}

fn httpie(invocation: &Invocation, walker: &Walker<'_, '_>) -> HttpRequest {
    let operands = invocation.operands();
    let takes_value = [
        "-a",
        "--auth",
        "-A",
        "--auth-type",
        "-o",
        "--output",
        "--session",
        "--session-read-only",
        "--verify",
        "--cert",
        "--cert-key",
        "--timeout",
        "--proxy",
        "-p",
        "--print",
        "--pretty",
        "-s",
        "--style",
        "--format-options",
        "--raw",
    ];
    let raw = crate::command::option_text(operands, &[], &["--raw"]);
    let words = crate::command::positionals(operands, &takes_value);
    let mut iter = words.into_iter().peekable();
    let mut method = None;
    if let Some(first) = iter.peek() {
        let upper = first.text.to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
        ) {
            method = Some(upper);
            iter.next();
            let _ = &method;
        } else if first.text.chars().all(|c| c.is_ascii_uppercase()) && !first.text.is_empty() {
            method = Some(first.text.clone());
            iter.next();
        }
    }
    let mut urls = Vec::new();
    if let Some(url) = iter.next() {
        urls.push(url.text.clone());
    }
    let mut fields = serde_json::Map::new();
    let mut bodies = Vec::new();
    let mut dynamic = false;
    for item in iter {
        let text = item.text.as_str();
        if let Some(file) = text.strip_prefix('@') {
            bodies.push(file_body(
                &Arg {
                    text: file.to_owned(),
                    ..item.clone()
                },
                invocation,
                walker,
            ));
        } else if let Some((key, value)) = text.split_once(":=@") {
            let _ = key;
            bodies.push(file_body(
                &Arg {
                    text: value.to_owned(),
                    ..item.clone()
                },
                invocation,
                walker,
            ));
        } else if let Some((key, value)) = text.split_once(":=") {
            let json =
                serde_json::from_str(value).unwrap_or(serde_json::Value::String(value.to_owned()));
            fields.insert(key.to_owned(), json);
            dynamic |= item.dynamic && value.starts_with('$');
        } else if let Some((key, value)) = text.split_once("==") {
            let _ = (key, value);
        } else if let Some((key, value)) = text.split_once('=') {
            fields.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
            dynamic |= item.dynamic && value.starts_with('$') && !value.contains(' ');
        }
    }
    if dynamic {
        bodies.push(Body::Unknown(
            "a body field is only known at run time".to_owned(),
        ));
    }
    if !fields.is_empty() {
        bodies.push(Body::Known(serde_json::Value::Object(fields).to_string()));
    }
    if let Some(raw) = raw {
        bodies.push(Body::Known(raw));
    }
    if bodies.is_empty() && !matches!(invocation.stdin, Stdin::Terminal) {
        bodies.push(file_body(&Arg::literal("-"), invocation, walker));
    }
    let method = method.unwrap_or_else(|| {
        if bodies.is_empty() {
            "GET".to_owned()
        } else {
            "POST".to_owned()
        }
    });
    HttpRequest {
        program: invocation.program().to_owned(),
        method,
        urls,
        bodies,
    }
}

/// A URL without its query string and fragment, for messages: tokens travel there.
pub(crate) fn without_query(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let mut shown = url.get(..end).unwrap_or(url).to_owned();
    if end < url.len() {
        shown.push_str("?...");
    }
    shown
}
