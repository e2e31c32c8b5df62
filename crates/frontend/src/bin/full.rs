//! The whole UI: every page.

fn main() {
    berth_frontend::start(berth_frontend::app::App);
}
