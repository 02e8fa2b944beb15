//! Small file systems a test mounts itself (root only, as in CI): a size-capped tmpfs to
//! fill up ([`Tmpfs`]), and an ext4 image mounted with `errors=remount-ro` that the test
//! can force read-only under a running daemon ([`Ext4Image`]). Both unmount on drop;
//! declare them before the daemon that uses them so that the daemon is stopped first.
//!
//! Why not `mount -o remount,ro` on the tmpfs: Linux refuses it (`EBUSY`) while any file
//! on it is open for writing, which a running daemon's database always is. ext4's
//! `trigger_fs_error` turns the file system read-only as a real disk error would, open
//! files included.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// Runs a command, panicking with its output when it fails.
fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program}: {e} (tests of full disks need root and util-linux)")
        });
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}): {} (tests of full disks run as root, as in CI)",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Unmounts `dir`, lazily if something still holds it.
fn unmount(dir: &Path) {
    let ok = Command::new("umount")
        .arg(dir)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let _ = Command::new("umount").arg("-l").arg(dir).output();
    }
}

/// A tmpfs of a given size, mounted on a fresh temp dir.
#[derive(Debug)]
pub struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_kib` KiB.
    ///
    /// # Panics
    ///
    /// When the mount fails (not root, no `mount`).
    pub fn mount(size_kib: u64) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("fc-tmpfs")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let path = dir.path().to_str().expect("UTF-8 temp path").to_owned();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size_kib}k,mode=0700"),
                "tmpfs",
                &path,
            ],
        );
        Self { dir }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        unmount(self.dir.path());
    }
}

/// A file that takes every free byte of its file system, removed on drop or with
/// [`Filler::remove`].
#[derive(Debug)]
pub struct Filler {
    path: Option<PathBuf>,
}

impl Filler {
    /// Writes `dir/filler` until the file system is full (`ENOSPC`).
    ///
    /// # Panics
    ///
    /// When the file cannot be created, or writing fails otherwise.
    pub fn fill(dir: &Path) -> Self {
        let path = dir.join("filler");
        let mut file = std::fs::File::create(&path).expect("create the filler");
        let chunk = vec![0xa5u8; 64 * 1024];
        let mut small = false;
        loop {
            let buf = if small { &chunk[..512] } else { &chunk[..] };
            match file.write(buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => {
                    if small {
                        break;
                    }
                    small = true;
                }
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        let _ = file.sync_all();
        Self { path: Some(path) }
    }

    /// Frees the space again.
    pub fn remove(mut self) {
        if let Some(p) = self.path.take() {
            std::fs::remove_file(&p).expect("remove the filler");
        }
    }
}

impl Drop for Filler {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// An ext4 file system in an image file, loop-mounted with `errors=remount-ro`.
#[derive(Debug)]
pub struct Ext4Image {
    image: tempfile::NamedTempFile,
    dir: TempDir,
}

impl Ext4Image {
    /// Makes and mounts an image of `size_mib` MiB.
    ///
    /// # Panics
    ///
    /// When `mkfs.ext4` or the loop mount fails (not root, no loop devices).
    pub fn mount(size_mib: u64) -> Self {
        let image = tempfile::Builder::new()
            .prefix("fc-ext4")
            .suffix(".img")
            .tempfile_in("/tmp")
            .expect("image file");
        image
            .as_file()
            .set_len(size_mib * 1024 * 1024)
            .expect("size the image");
        let img = image.path().to_str().expect("UTF-8 path").to_owned();
        run("mkfs.ext4", &["-q", "-F", &img]);
        let dir = tempfile::Builder::new()
            .prefix("fc-ext4")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let path = dir.path().to_str().expect("UTF-8 temp path").to_owned();
        run("mount", &["-o", "loop,errors=remount-ro", &img, &path]);
        Self { image, dir }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Reports a file system error to ext4, which (with `errors=remount-ro`) makes it
    /// read-only at once, for files already open too.
    ///
    /// # Panics
    ///
    /// When the loop device or its sysfs trigger cannot be found or written.
    pub fn force_read_only(&self) {
        let out = Command::new("findmnt")
            .args(["-no", "SOURCE"])
            .arg(self.dir.path())
            .output()
            .expect("run findmnt");
        let source = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let device = Path::new(&source).file_name().unwrap_or_else(|| {
            panic!(
                "no loop device for {}: {source:?}",
                self.dir.path().display()
            )
        });
        let trigger = Path::new("/sys/fs/ext4")
            .join(device)
            .join("trigger_fs_error");
        std::fs::write(&trigger, "fleet-tests: forced read-only\n")
            .unwrap_or_else(|e| panic!("writing {}: {e}", trigger.display()));
    }
}

impl Drop for Ext4Image {
    fn drop(&mut self) {
        unmount(self.dir.path());
        // The loop device is released with the mount (autoclear); the image file is
        // removed by its own drop.
        let _ = &self.image;
    }
}
