//! The file-system events that call for a reload.

use notify::event::{AccessKind, AccessMode, EventKind};

/// Returns whether `event` may have changed what a load reads. Opening, reading and
/// closing a file without writing do not, and the engine's own reads produce them.
/// Closing a file after writing does, and so does every create, modify, remove or
/// rename, and any event notify cannot classify (such as a rescan after lost events).
pub fn is_change(event: &notify::Event) -> bool {
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Other => true,
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    use super::*;

    fn event(kind: EventKind) -> notify::Event {
        notify::Event::new(kind)
    }

    #[test]
    fn reads_are_not_changes() {
        assert!(!is_change(&event(EventKind::Access(AccessKind::Open(AccessMode::Any)))));
        assert!(!is_change(&event(EventKind::Access(AccessKind::Close(AccessMode::Read)))));
    }

    #[test]
    fn writes_creates_and_renames_are_changes() {
        assert!(is_change(&event(EventKind::Access(AccessKind::Close(AccessMode::Write)))));
        assert!(is_change(&event(EventKind::Create(CreateKind::File))));
        assert!(is_change(&event(EventKind::Modify(ModifyKind::Name(RenameMode::To)))));
        assert!(is_change(&event(EventKind::Other)));
    }
}
