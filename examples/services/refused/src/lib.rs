//! A facade whose function returns an enum, which Aqua cannot express: the host
//! refuses it when it is loaded.

wit_bindgen::generate!({ world: "refused", path: "wit" });

struct Refused;

impl Guest for Refused {
    fn paint(name: String) -> Color {
        if name.is_empty() { Color::Red } else { Color::Green }
    }
}

export!(Refused);
