//! A greeting service: strings, records, tuples, lists, options, and the host's call
//! parameters and logging.

wit_bindgen::generate!({ world: "example:greeting/greeting@0.1.0", path: ["../../../marine-host/wit", "wit"], generate_all });

use aqua::host::{call_parameters, logging};

struct Greeting;

impl Guest for Greeting {
    fn greet(name: String) -> String {
        logging::log(logging::Level::Info, &format!("greeting {name}"));
        format!("Hi, {name}!")
    }

    fn older(who: Person, years: u32) -> Person {
        Person { name: who.name, age: who.age.saturating_add(years) }
    }

    fn caller() -> (String, String) {
        let p = call_parameters::get();
        (p.particle.init_peer_id, p.host_peer_id)
    }

    fn echo(text: String) -> String {
        text
    }

    fn first(names: Vec<String>) -> Option<String> {
        names.into_iter().next()
    }
}

export!(Greeting);
