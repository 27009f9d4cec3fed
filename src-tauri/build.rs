//! Generates Tauri's context (config, capabilities, embedded UI assets) at build time.

fn main() {
    tauri_build::build();
}
