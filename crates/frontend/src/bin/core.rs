//! The first visit's build: the sign-in page and the session list.

fn main() {
    berth_frontend::start(berth_frontend::app::FirstVisitApp);
}
