//! `fs.raw-device`: writing to a block device or making a filesystem.
//!
//! Flags `dd of=/dev/sda`, `mkfs.*`, `wipefs`, partitioning tools on a device, `shred /dev/...`
//! and redirections into a disk device (`> /dev/nvme0n1`). Risky because it erases a whole disk
//! below the filesystem, with no undo. Example: `dd if=/dev/zero of=/dev/sda bs=1M`. Safer:
//! write to an image file (`of=disk.img`) or work in a VM or container.

use blastdoor_core::Risk;

use super::{Finding, Rule, path_target};
use crate::analysis::Walker;
use crate::command::Invocation;
use crate::words::Arg;

pub(crate) static RULE: Rule = Rule {
    id: "fs.raw-device",
    summary: "writes to a raw disk device or creates a filesystem on one, erasing the whole disk",
    alternative: "write to an image file (of=disk.img) or do it in a disposable VM or container",
};

const DEVICE_PREFIXES: &[&str] = &[
    "sd", "hd", "vd", "xvd", "nvme", "disk", "rdisk", "mmcblk", "md", "dm-", "mapper/", "loop",
    "sr", "nbd",
];

/// True for `/dev/sda`, `/dev/nvme0n1p1`, `/dev/disk2`, not `/dev/null` or `/dev/stdout`.
pub(crate) fn is_disk_device(path: &str) -> bool {
    path.strip_prefix("/dev/").is_some_and(|device| {
        DEVICE_PREFIXES
            .iter()
            .any(|prefix| device.starts_with(prefix))
    })
}

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let program = invocation.program();
    let operands = invocation.operands();
    let device = match program {
        "dd" => operands.iter().find_map(|arg| {
            arg.text
                .strip_prefix("of=")
                .filter(|path| is_disk_device(path))
                .map(str::to_owned)
        }),
        _ if program.starts_with("mkfs")
            || matches!(program, "wipefs" | "mke2fs" | "mkswap" | "blkdiscard") =>
        {
            Some(
                operands
                    .iter()
                    .rev()
                    .find(|arg| !arg.text.starts_with('-'))
                    .map(|arg| arg.text.clone())
                    .unwrap_or_else(|| "a device".to_owned()),
            )
        }
        "fdisk" | "sfdisk" | "parted" | "gdisk" | "sgdisk" | "cfdisk" | "shred" => operands
            .iter()
            .find(|arg| is_disk_device(&arg.text))
            .map(|arg| arg.text.clone()),
        _ => None,
    };
    if let Some(device) = device {
        walker.report(Finding::hold(
            &RULE,
            Risk::Destroy,
            format!("`{program}` would overwrite the disk device `{device}`"),
            vec![path_target("device", &device, invocation)],
        ));
    }
}

/// A redirection into a disk device.
pub(crate) fn check_write(arg: &Arg, walker: &mut Walker<'_, '_>) {
    if is_disk_device(&arg.text) {
        walker.report(Finding::hold(
            &RULE,
            Risk::Destroy,
            format!(
                "output is written straight to the disk device `{}`",
                arg.text
            ),
            vec![super::local_target("device", &arg.text)],
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check("dd if=/dev/zero of=/dev/sda bs=1M", "hold fs.raw-device");
        check("sudo mkfs.ext4 /dev/nvme0n1p1", "hold fs.raw-device");
        check("wipefs -a /dev/sdb", "hold fs.raw-device");
        check("cat image.iso > /dev/sdb", "hold fs.raw-device");
        check("shred -n 3 /dev/sdc", "hold fs.raw-device");
        check("dd if=/dev/zero of=disk.img bs=1M count=10", "allow");
        check("echo hi > /dev/null", "allow");
        check("echo hi > /dev/stderr", "allow");
    }
}
