//! Build script of the `blastdoor` package: links the agent hook binary, `blastdoor-hook`, as a
//! static PIE on Linux with glibc, and leaves every other target of the package (the full
//! `blastdoor` CLI, tests, proc-macros, dependencies) linked the default way.
//!
//! Why: a harness starts the hook once per tool call, so process start-up is its whole time
//! budget, and a dynamically linked binary spends part of it in the dynamic loader (finding,
//! mapping and relocating `libc`, `libm` and `libgcc_s`). Measured on the development machine:
//! a Rust hello-world spawns in ~1.27 ms linked dynamically, 0.85 ms as a static PIE
//! (`/bin/true`: 0.93 ms); the whole hook went from 2.02 to 1.69 ms median when built with
//! `crt-static`; with this script, 1.25 to 0.89 ms median and 1.10 to 0.74 ms CPU (interleaved
//! A/B on the same machine, `/bin/true` 0.66 ms). The `crt-static` target feature cannot be set
//! for one binary (RUSTFLAGS reaches every crate, proc-macros included), so this script asks
//! the linker:
//!
//! - `-static-pie` for `blastdoor-hook` only (`cargo::rustc-link-arg-bin`): `cc` links that
//!   binary against glibc's `libc.a` (libc6-dev) with `rcrt1.o`, self-relocating, no
//!   interpreter.
//! - rustc still names the libraries of a dynamic link (`-Wl,-Bdynamic -lgcc_s -lutil -lrt
//!   -lpthread -lm -ldl -lc`, std's choice when `crt-static` is off), and in dynamic mode the
//!   linker would take `libc.so` and `libgcc_s.so`: the result would be "static" but need
//!   `libc.so.6` with no loader to load it, and crash at start. So the script writes, into a
//!   directory under `OUT_DIR` that only this binary's link searches (`-L`, searched before the
//!   system directories), one linker script per library named `lib<name>.a` that points at the
//!   static archive: `libgcc_s` becomes `libgcc_eh.a` + `libgcc.a` (what a `crt-static` build
//!   links), `libc` becomes `libc.a` grouped with those two. The linker finds the script first
//!   in that directory, dynamic mode or not.
//!
//! The static link is used only when it can work: target `linux`/`gnu`, host = target (the
//! probe runs the host's `cc`), `crt-static` not already on, and `cc -print-file-name` finds
//! `rcrt1.o` and every archive. Otherwise nothing is emitted (the hook links dynamically, as
//! before) and, on Linux/glibc, a cargo warning says why. `BLASTDOOR_HOOK_DYNAMIC=1` opts out.
//!
//! What a static glibc gives up is unused by the hook: it reads `HOME`/`BLASTDOOR_HOME` from
//! the environment (no `getpwuid`, so no NSS), resolves no host names and sets no locale. The
//! one `dlopen` linked in belongs to `SQLite` loadable extensions, which blastdoor never loads.
//!
//! This script must never panic (the workspace lints hold here too): every failure is a reason
//! to fall back to the dynamic link.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary linked statically; every other target of the package is left alone.
const HOOK_BIN: &str = "blastdoor-hook";

/// Set to anything but empty or `0` to link the hook dynamically.
const OPT_OUT_VAR: &str = "BLASTDOOR_HOOK_DYNAMIC";

/// The libraries rustc names for a dynamic glibc link, each with the static archives that
/// replace it. `libutil`, `librt`, `libpthread` and `libdl` are empty stubs since glibc 2.34
/// (their code is in `libc.a`) but rustc still passes `-l` for them, so they must resolve.
const REPLACEMENTS: &[(&str, &[&str])] = &[
    ("gcc_s", &["libgcc_eh.a", "libgcc.a"]),
    ("util", &["libutil.a"]),
    ("rt", &["librt.a"]),
    ("pthread", &["libpthread.a"]),
    ("m", &["libm.a"]),
    ("dl", &["libdl.a"]),
    ("c", &["libc.a", "libgcc_eh.a", "libgcc.a"]),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed={OPT_OUT_VAR}");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    match static_link_args() {
        Plan::Static(args) => {
            for arg in args {
                println!("cargo::rustc-link-arg-bin={HOOK_BIN}={arg}");
            }
        }
        Plan::Dynamic { why, warn: true } => {
            println!("cargo::warning={HOOK_BIN} is linked dynamically (slower start-up): {why}");
        }
        Plan::Dynamic { warn: false, .. } => {}
    }
}

/// How the hook binary is linked.
enum Plan {
    /// Static PIE: the extra linker arguments for the hook binary.
    Static(Vec<String>),
    /// The default dynamic link; `warn` when the static link was expected to work here.
    Dynamic { why: String, warn: bool },
}

fn static_link_args() -> Plan {
    let var = |name: &str| env::var(name).unwrap_or_default();
    let opt_out = var(OPT_OUT_VAR);
    if !opt_out.is_empty() && opt_out != "0" {
        return dynamic(format!("{OPT_OUT_VAR}={opt_out}"), false);
    }
    // Other systems have no glibc to link statically (macOS cannot link libSystem statically;
    // musl targets are static already): the default link is the only one, nothing to warn.
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return dynamic("not a linux-gnu target".to_owned(), false);
    }
    if var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|feature| feature == "crt-static")
    {
        // RUSTFLAGS already link everything statically, with rustc's own arguments.
        return dynamic("crt-static is already on".to_owned(), false);
    }
    if var("HOST") != var("TARGET") {
        return dynamic(
            format!(
                "cross-compiling to `{}`: the host's `cc` cannot find the target's archives",
                var("TARGET")
            ),
            true,
        );
    }
    // The linker rustc runs: cargo's resolved `linker` setting when there is one, else `cc`.
    let linker = env::var_os("RUSTC_LINKER")
        .filter(|linker| !linker.is_empty())
        .map_or_else(|| PathBuf::from("cc"), PathBuf::from);
    let Some(out_dir) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        return dynamic("OUT_DIR is not set".to_owned(), true);
    };
    let shim_dir = out_dir.join("static-hook-libs");
    match write_shims(&linker, &shim_dir) {
        Ok(()) => Plan::Static(vec![
            "-static-pie".to_owned(),
            format!("-L{}", shim_dir.display()),
        ]),
        Err(why) => dynamic(why, true),
    }
}

fn dynamic(why: String, warn: bool) -> Plan {
    Plan::Dynamic { why, warn }
}

/// Writes one linker script per library of [`REPLACEMENTS`] into `shim_dir`.
fn write_shims(linker: &Path, shim_dir: &Path) -> Result<(), String> {
    // The start file of a static PIE (self-relocation); a glibc built without static-pie
    // support has none, and `cc -static-pie` would fail to link.
    find_file(linker, "rcrt1.o")?;
    fs::create_dir_all(shim_dir)
        .map_err(|error| format!("cannot create `{}`: {error}", shim_dir.display()))?;
    for (library, archives) in REPLACEMENTS {
        let mut inputs = Vec::with_capacity(archives.len());
        for archive in *archives {
            let path = find_file(linker, archive)?;
            inputs.push(format!("\"{path}\""));
        }
        // GROUP: the archives may refer to each other (libc.a needs libgcc_eh.a's unwinder
        // and libgcc.a needs libc.a), and GNU ld reads an archive once unless grouped.
        let script = format!(
            "/* {HOOK_BIN} is linked statically: see crates/blastdoor/build.rs */\nGROUP ( {} )\n",
            inputs.join(" ")
        );
        let shim = shim_dir.join(format!("lib{library}.a"));
        fs::write(&shim, script)
            .map_err(|error| format!("cannot write `{}`: {error}", shim.display()))?;
    }
    Ok(())
}

/// The absolute path of `file` (an archive or start file) in the linker's search path, from
/// `cc -print-file-name=FILE`, which prints the bare name when it finds nothing.
fn find_file(linker: &Path, file: &str) -> Result<String, String> {
    let not_found = || {
        format!(
            "`{} -print-file-name={file}` finds no `{file}` (install libc6-dev / build-essential)",
            linker.display()
        )
    };
    let output = Command::new(linker)
        .arg(format!("-print-file-name={file}"))
        .output()
        .map_err(|error| format!("cannot run `{}`: {error}", linker.display()))?;
    if !output.status.success() {
        return Err(not_found());
    }
    let printed = String::from_utf8(output.stdout).map_err(|_| not_found())?;
    let printed = Path::new(printed.trim());
    if !printed.is_absolute() {
        return Err(not_found());
    }
    let path = fs::canonicalize(printed).map_err(|_| not_found())?;
    let Some(path) = path.to_str().filter(|path| !path.contains('"')) else {
        return Err(format!(
            "`{}` cannot be named in a linker script",
            path.display()
        ));
    };
    Ok(path.to_owned())
}
