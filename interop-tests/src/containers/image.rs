//! Container images holding one OTP release each, built once per content.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::rootfs::RootFs;
use super::{ContainerError, Docker};
use crate::Otp;

/// The image repository our images are tagged in: `cnode-otp:<release>-<fingerprint>`.
pub const IMAGE_REPOSITORY: &str = "cnode-otp";

/// An image that runs one OTP release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtpImage {
    /// The OTP major release inside.
    pub release: u32,
    /// The image reference to `docker run`.
    pub tag: String,
    /// The `erl` launcher inside the image.
    pub erl: String,
}

impl OtpImage {
    /// The image for `otp`. If `CNODE_CONTAINER_IMAGE_OTP<release>` names an
    /// image (an official `erlang:NN`, or one built from
    /// `interop-tests/docker/official.Dockerfile`), that image is used with
    /// `erl` from its `PATH`. Otherwise an image is assembled from the host's
    /// install (`FROM scratch` with the OTP tree at its host path and the
    /// libraries it links) and tagged with a fingerprint of its inputs, so it
    /// is built once and reused until an input changes. Concurrent callers
    /// in one process share one build.
    pub fn for_otp(docker: &Docker, otp: &Otp) -> Result<OtpImage, ContainerError> {
        let override_var = super::lab::image_var(otp.release);
        if let Some(tag) = std::env::var(&override_var)
            .ok()
            .filter(|tag| !tag.is_empty())
        {
            // Inside a lab's container the variable names our own image,
            // where `erl` is where `build` put it; other images have it on `PATH`.
            let erl = if tag.starts_with(&format!("{IMAGE_REPOSITORY}:")) {
                erl_in_image(otp)
            } else {
                "erl".to_owned()
            };
            return Ok(OtpImage {
                release: otp.release,
                tag,
                erl,
            });
        }
        static BUILDS: OnceLock<Mutex<HashMap<u32, BuildSlot>>> = OnceLock::new();
        let slot = {
            let mut builds = BUILDS
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(builds.entry(otp.release).or_default())
        };
        let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(image) = slot.as_ref() {
            return Ok(image.clone());
        }
        let image = build(docker, otp)?;
        *slot = Some(image.clone());
        Ok(image)
    }
}

/// One release's image, once built; its lock is held during the build, so
/// that concurrent tests wait for one build instead of each starting one.
type BuildSlot = Arc<Mutex<Option<OtpImage>>>;

/// Builds (or finds) the image assembled from the host's install of `otp`.
fn build(docker: &Docker, otp: &Otp) -> Result<OtpImage, ContainerError> {
    let rootfs = RootFs::for_otp(otp)?;
    let tag = format!(
        "{IMAGE_REPOSITORY}:{}-{}",
        otp.release,
        rootfs.fingerprint()?
    );
    if !docker.has_image(&tag) {
        // Import untagged, and tag only a complete import: a tar stream cut
        // short by an error must not leave a broken image under the tag.
        let mut written = Ok(());
        let id = docker.run_with_stdin(
            [
                "import",
                "--change",
                "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8",
                "--change",
                &format!("LABEL org.cnode.interop.otp={}", otp.release),
                "-",
            ],
            |stdin| {
                written = rootfs.write_tar(stdin);
                Ok(())
            },
        )?;
        if let Err(err) = written {
            let _ = docker.run(["rmi", &id]);
            return Err(err);
        }
        docker.run(["tag", &id, &tag])?;
        remove_older_tags(docker, otp.release, &tag);
    }
    Ok(OtpImage {
        release: otp.release,
        tag,
        erl: erl_in_image(otp),
    })
}

/// Where our image of `otp` has `erl`: `/usr/bin/erl` in an image made of a
/// Debian root, the host path otherwise.
fn erl_in_image(otp: &Otp) -> String {
    match otp.debian_root() {
        Some(_) => "/usr/bin/erl".to_owned(),
        None => otp.erl().to_string_lossy().into_owned(),
    }
}

/// Removes this release's images built from inputs that have since changed.
/// An image still used by a container (another run's) stays; `docker rmi`
/// refuses it, which is fine.
fn remove_older_tags(docker: &Docker, release: u32, current: &str) {
    let Ok(listing) = docker.run([
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        IMAGE_REPOSITORY,
    ]) else {
        return;
    };
    let prefix = format!("{IMAGE_REPOSITORY}:{release}-");
    for old in listing
        .lines()
        .filter(|tag| tag.starts_with(&prefix) && *tag != current)
    {
        let _ = docker.run(["rmi", old]);
    }
}
