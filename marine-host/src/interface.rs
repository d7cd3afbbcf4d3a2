//! The Aqua declaration of a facade's interface, read from the component's own WIT:
//! `data` for its records and tuples (each after the types it uses, records by their
//! WIT names in PascalCase, tuples `Tuple1`, `Tuple2`, ...), then one `service` with
//! the exported functions sorted by name. A function returning `result<T, E>` is
//! declared returning `T` (an `E` fails the call).

use crate::values::field_name;
use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Resolve, Type, TypeDefKind, TypeId, WorldItem};

/// `kebab-case` to `PascalCase`.
pub fn pascal(name: &str) -> String {
    name.split(['-', '_']).filter(|p| !p.is_empty()).map(|p| p[..1].to_uppercase() + &p[1..]).collect()
}

/// The Aqua text declaring the component `bytes` as `service NAME`.
pub fn aqua_service(name: &str, bytes: &[u8]) -> Result<String, String> {
    let (resolve, world) = match decode(bytes).map_err(|e| format!("not a WebAssembly component: {e:#}"))? {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => return Err("this is a WIT package, not a component".into()),
    };
    let mut functions: Vec<&wit_parser::Function> = resolve.worlds[world]
        .exports
        .values()
        .filter_map(|item| match item {
            WorldItem::Function(f) => Some(f),
            _ => None,
        })
        .collect();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Printer { resolve: &resolve, datas: Vec::new(), tuples: 0 };
    let mut lines = Vec::new();
    for f in functions {
        let mut params = Vec::new();
        for p in &f.params {
            let ty = out
                .aqua(&p.ty)
                .map_err(|kind| format!("`{}` uses a WIT {kind} in its argument `{}`, which Aqua cannot express", f.name, p.name))?;
            params.push(format!("{}: {ty}", field_name(&p.name)));
        }
        let result = match f.result.map(|t| out.result(&t)).transpose() {
            Ok(Some(Some(ty))) => format!(" -> {ty}"),
            Ok(_) => String::new(),
            Err(kind) => return Err(format!("`{}` uses a WIT {kind} in its result, which Aqua cannot express", f.name)),
        };
        lines.push(format!("    {}({}){result}\n", field_name(&f.name), params.join(", ")));
    }
    let mut text: String = out.datas.iter().map(|(_, d)| format!("{d}\n")).collect();
    text.push_str(&format!("service {}:\n", pascal(name)));
    text.extend(lines);
    Ok(text)
}

struct Printer<'r> {
    resolve: &'r Resolve,
    /// Declared data types, in order: the WIT type and its `data` text.
    datas: Vec<(TypeId, String)>,
    tuples: usize,
}

impl Printer<'_> {
    /// A result type as Aqua sees it: `result<T, E>` is `T` (or nothing).
    fn result(&mut self, ty: &Type) -> Result<Option<String>, &'static str> {
        if let Type::Id(id) = ty
            && let TypeDefKind::Result(r) = &self.resolve.types[*id].kind
        {
            return r.ok.as_ref().map(|ok| self.aqua(ok)).transpose();
        }
        self.aqua(ty).map(Some)
    }

    fn aqua(&mut self, ty: &Type) -> Result<String, &'static str> {
        Ok(match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::S8 => "i8".into(),
            Type::S16 => "i16".into(),
            Type::S32 => "i32".into(),
            Type::S64 => "i64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char | Type::String => "string".into(),
            Type::ErrorContext => return Err("error-context"),
            Type::Id(id) => self.defined(*id)?,
        })
    }

    fn defined(&mut self, id: TypeId) -> Result<String, &'static str> {
        let def = &self.resolve.types[id];
        let fields: Vec<(String, Type)> = match &def.kind {
            TypeDefKind::Type(t) => return self.aqua(t),
            TypeDefKind::List(t) => return Ok(format!("[]{}", self.aqua(t)?)),
            TypeDefKind::Option(t) => return Ok(format!("?{}", self.aqua(t)?)),
            TypeDefKind::Record(r) => r.fields.iter().map(|f| (field_name(&f.name), f.ty)).collect(),
            TypeDefKind::Tuple(t) => t.types.iter().enumerate().map(|(i, ty)| (format!("_{i}"), *ty)).collect(),
            TypeDefKind::Variant(_) => return Err("variant"),
            TypeDefKind::Enum(_) => return Err("enum"),
            TypeDefKind::Result(_) => return Err("result"),
            TypeDefKind::Flags(_) => return Err("flags"),
            TypeDefKind::Map(..) => return Err("map"),
            TypeDefKind::Resource | TypeDefKind::Handle(_) => return Err("resource"),
            TypeDefKind::Future(_) => return Err("future"),
            TypeDefKind::Stream(_) => return Err("stream"),
            TypeDefKind::FixedLengthList(..) => return Err("fixed-length list"),
            TypeDefKind::Unknown => return Err("type of unknown shape"),
        };
        if let Some((_, text)) = self.datas.iter().find(|(known, _)| *known == id) {
            return Ok(text.lines().next().unwrap_or_default().trim_start_matches("data ").trim_end_matches(':').to_owned());
        }
        let name = match (&def.kind, &def.name) {
            (TypeDefKind::Record(_), Some(n)) => pascal(n),
            _ => {
                self.tuples += 1;
                format!("Tuple{}", self.tuples)
            }
        };
        let mut body = format!("data {name}:\n");
        for (field, ty) in fields {
            body.push_str(&format!("    {field}: {}\n", self.aqua(&ty)?));
        }
        self.datas.push((id, body));
        Ok(name)
    }
}
