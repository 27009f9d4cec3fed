//! Generates Tauri's context (config, capabilities, embedded UI assets) at build time.

fn main() {
    // `generate_context!` embeds ui/dist, but nothing tells cargo that the assets changed:
    // without this, a UI-only change would leave the old UI in an incremental build.
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build();
}
