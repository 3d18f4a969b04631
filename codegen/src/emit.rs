//! Emitting everything a generated crate has besides its models, with `quote!`: open enums,
//! the connector type and its builder, auth config types built from the spec's schemes, entity
//! handles, params types and request builders, search fields, and the static metadata
//! (`connector_sdk_runtime::meta::ConnectorMeta` and the operation tables) the
//! runtime works from. Every name comes from the spec: the connector's name gives
//! `<Prefix>Connector`, `<Prefix>AuthConfig`, the environment variable prefix and the span
//! name. Generated code calls the runtime crate `connector_sdk_runtime`; the runtime never calls
//! back.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::docs;
use crate::model::{
    Action, ArrayStyle, BodyKind, Entity, JExpr, JPart, JRoot, Operation, PageForm, Param,
    ParamKind, ParamLocation, RecordElement, Spec,
};
use crate::normalize::OpenEnum;

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A Rust identifier for a snake_case name, escaping keywords the way progenitor/typify do
/// (`type` → `type_`).
pub fn field_ident(name: &str) -> Ident {
    let snake = name.to_snake_case();
    let snake = if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{snake}")
    } else {
        snake
    };
    if KEYWORDS.contains(&snake.as_str()) {
        format_ident!("{}_", snake)
    } else {
        Ident::new(&snake, Span::call_site())
    }
}

fn type_ident(name: &str) -> Ident {
    let camel = name.to_upper_camel_case();
    if KEYWORDS.contains(&camel.as_str()) {
        format_ident!("{}_", camel)
    } else {
        Ident::new(&camel, Span::call_site())
    }
}

/// Variant names for open-enum values: `post-incident` → `PostIncident`, `""` → `Empty`.
pub fn variant_names(values: &[String]) -> Vec<Ident> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let mut name = v.to_upper_camel_case();
        if name.is_empty() {
            name = "Empty".to_string();
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            name = format!("V{name}");
        }
        if name == "Unknown" || KEYWORDS.contains(&name.as_str()) {
            name.push_str("Value");
        }
        let base = name.clone();
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        out.push(name);
    }
    out.iter()
        .map(|n| Ident::new(n, Span::call_site()))
        .collect()
}

/// The open enums (`crate::open_enum!` invocations).
pub fn enums(list: &[OpenEnum]) -> TokenStream {
    let items = list.iter().map(|e| {
        let name = type_ident(&e.name);
        let doc = docs::attrs(if e.description.is_empty() {
            &e.name
        } else {
            &e.description
        });
        let variants = variant_names(&e.values);
        let wires = &e.values;
        let vdocs = e.values.iter().map(|v| {
            let text = if v.is_empty() {
                " The empty string `\"\"`.".to_string()
            } else {
                format!(" `{v}`")
            };
            quote!(#[doc = #text])
        });
        let variants2 = variants.clone();
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #( #vdocs #variants, )*
                /// A value this version of the SDK does not know (the API adds values without
                /// notice), kept verbatim.
                Unknown(::std::string::String),
            }

            ::connector_sdk_runtime::open_enum_impls!(#name { #( #variants2 = #wires ),* });
        }
    });
    quote!( #(#items)* )
}

struct ParamInfo<'a> {
    p: &'a Param,
    ident: Ident,
    rust_ty: TokenStream,
    /// Stored as `Option<T>` in the params struct.
    optional: bool,
    /// Required and without a default: an argument of the entity method.
    positional: bool,
}

/// The Rust type of a parameter of kind `kind`.
fn param_type(kind: &ParamKind) -> TokenStream {
    match kind {
        ParamKind::String { .. } => quote!(::std::string::String),
        ParamKind::Integer => quote!(i64),
        ParamKind::Boolean => quote!(bool),
        ParamKind::Number => quote!(f64),
        ParamKind::Array { items, .. } => {
            let item = param_type(items);
            quote!(::std::vec::Vec<#item>)
        }
        ParamKind::Object => {
            quote!(::std::collections::BTreeMap<::std::string::String, ::serde_json::Value>)
        }
        ParamKind::Json => quote!(::serde_json::Value),
    }
}

fn param_infos(op: &Operation) -> Vec<ParamInfo<'_>> {
    // Wire names that are not identifiers (`page[size]`, `space-id`, `X-Api-Version`) and
    // keywords get snake_case names; two names that meet (`tags` and `tags[]`) are told
    // apart by where they travel, then by a number.
    let mut taken: Vec<String> = Vec::new();
    op.params
        .iter()
        .map(|p| {
            let rust_ty = param_type(&p.kind);
            let positional = p.required && p.default.is_none();
            let mut ident = field_ident(&p.name);
            // The request builders' own methods keep their names.
            const BUILDER_METHODS: &[&str] =
                &["stream", "pages", "send", "params", "prefetch", "validate"];
            // A download's builder has `range`; a write's params hold the body as `body`.
            let taken_here = match op.action {
                Action::Download => Some("range"),
                a if a.is_write() => Some("body"),
                _ => None,
            };
            if BUILDER_METHODS.contains(&ident.to_string().as_str())
                || taken_here == Some(ident.to_string().as_str())
            {
                ident = field_ident(&format!("{}_param", p.name));
            }
            if taken.contains(&ident.to_string()) {
                let location = match p.location {
                    ParamLocation::Path => "path",
                    ParamLocation::Query => "query",
                    ParamLocation::Header => "header",
                    ParamLocation::Body => "body",
                };
                ident = field_ident(&format!("{}_{location}", p.name));
                let mut n = 2;
                while taken.contains(&ident.to_string()) {
                    ident = field_ident(&format!("{}_{n}", p.name));
                    n += 1;
                }
            }
            taken.push(ident.to_string());
            ParamInfo {
                p,
                ident,
                rust_ty,
                optional: !positional,
                positional,
            }
        })
        .collect()
}

fn op_static(op: &Operation) -> Ident {
    format_ident!(
        "{}_{}",
        op.entity.to_uppercase(),
        op.action.as_str().to_uppercase()
    )
}

fn builder_ident(op: &Operation) -> Ident {
    format_ident!(
        "{}{}",
        op.entity.to_upper_camel_case(),
        op.action.as_str().to_upper_camel_case()
    )
}

fn params_ident(op: &Operation) -> Ident {
    format_ident!("{}Params", builder_ident(op))
}

fn opt_i64(v: Option<i64>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

fn opt_str(v: Option<&str>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

/// The path of the runtime crate in generated code.
pub(crate) fn rt() -> TokenStream {
    quote!(::connector_sdk_runtime)
}

/// A `ParamKind` value in generated code.
fn kind_meta(kind: &ParamKind) -> TokenStream {
    let rt = rt();
    match kind {
        ParamKind::String { allowed } => {
            quote!(#rt::meta::ParamKind::String { allowed: &[#(#allowed),*] })
        }
        ParamKind::Integer => quote!(#rt::meta::ParamKind::Integer),
        ParamKind::Boolean => quote!(#rt::meta::ParamKind::Boolean),
        ParamKind::Number => quote!(#rt::meta::ParamKind::Number),
        ParamKind::Array { items, style } => {
            let items = kind_meta(items);
            let style = match style {
                ArrayStyle::Multi => quote!(#rt::meta::ArrayStyle::Multi),
                ArrayStyle::Comma => quote!(#rt::meta::ArrayStyle::Comma),
                ArrayStyle::Space => quote!(#rt::meta::ArrayStyle::Space),
                ArrayStyle::Pipe => quote!(#rt::meta::ArrayStyle::Pipe),
            };
            quote!(#rt::meta::ParamKind::Array { items: &#items, style: #style })
        }
        ParamKind::Object => quote!(#rt::meta::ParamKind::Object),
        ParamKind::Json => quote!(#rt::meta::ParamKind::Json),
    }
}

/// A template part of a record transform, as a runtime `Part`.
fn jpart(p: &JPart) -> TokenStream {
    let rt = rt();
    match p {
        JPart::Text(t) => quote!(#rt::transform::Part::Text(#t)),
        JPart::Expr(e) => {
            let e = jexpr(e);
            quote!(#rt::transform::Part::Expr(#e))
        }
    }
}

fn jexpr(e: &JExpr) -> TokenStream {
    let rt = rt();
    match e {
        JExpr::Path(root, path) => {
            let root = match root {
                JRoot::Record => quote!(#rt::transform::Root::Record),
                JRoot::Config => quote!(#rt::transform::Root::Config),
            };
            quote!(#rt::transform::Expr::Path(#root, &[#(#path),*]))
        }
        JExpr::Lit(s) => quote!(#rt::transform::Expr::Lit(#s)),
        JExpr::Not(inner) => {
            let inner = jexpr(inner);
            quote!(#rt::transform::Expr::Not(&#inner))
        }
        JExpr::Replace(inner, from, to) => {
            let inner = jexpr(inner);
            quote!(#rt::transform::Expr::Replace(&#inner, #from, #to))
        }
        JExpr::Lower(inner) => {
            let inner = jexpr(inner);
            quote!(#rt::transform::Expr::Lower(&#inner))
        }
        JExpr::Upper(inner) => {
            let inner = jexpr(inner);
            quote!(#rt::transform::Expr::Upper(&#inner))
        }
        JExpr::Trim(inner) => {
            let inner = jexpr(inner);
            quote!(#rt::transform::Expr::Trim(&#inner))
        }
    }
}

/// `OperationMeta` statics.
fn op_meta(op: &Operation) -> TokenStream {
    let rt = rt();
    let name = op_static(op);
    let entity = &op.entity;
    let action = match op.action {
        Action::List => quote!(#rt::meta::Action::List),
        Action::Get => quote!(#rt::meta::Action::Get),
        Action::Search => quote!(#rt::meta::Action::Search),
        Action::Create => quote!(#rt::meta::Action::Create),
        Action::Update => quote!(#rt::meta::Action::Update),
        Action::Delete => quote!(#rt::meta::Action::Delete),
        Action::Download => quote!(#rt::meta::Action::Download),
    };
    let path = &op.path;
    let http_method = &op.method;
    let summary = &op.summary;
    let description = &op.description;
    let record = &op.record_component;
    let record_field = &op.record_field;
    let record_path = &op.record_path;
    let cursor_path: &[String] = op
        .pagination
        .as_ref()
        .map(|p| p.next_cursor_path.as_slice())
        .unwrap_or_default();
    let page_size_param = opt_str(op.page_size_param.as_deref());
    let bulk_page_size = opt_i64(op.bulk_page_size);
    let cursor_param = opt_str(
        op.pagination
            .as_ref()
            .map(|p| p.cursor_param.as_str())
            .filter(|c| !c.is_empty()),
    );
    let record_element = match &op.record_element {
        RecordElement::Whole => quote!(#rt::meta::RecordElement::Whole),
        RecordElement::Single => quote!(#rt::meta::RecordElement::Single),
        RecordElement::First(sub) => quote!(#rt::meta::RecordElement::First(&[#(#sub),*])),
        RecordElement::Each(sub) => quote!(#rt::meta::RecordElement::Each(&[#(#sub),*])),
        RecordElement::EachFlat(sub) => quote!(#rt::meta::RecordElement::EachFlat(&[#(#sub),*])),
        RecordElement::Members => quote!(#rt::meta::RecordElement::Members),
    };
    let next_page = match op.pagination.as_ref().map(|p| &p.form) {
        None => quote!(#rt::meta::NextPage::None),
        Some(PageForm::Cursor) => quote!(#rt::meta::NextPage::BodyCursor),
        Some(PageForm::HeaderCursor(h)) => quote!(#rt::meta::NextPage::HeaderCursor(#h)),
        Some(PageForm::LinkHeader(rel)) => quote!(#rt::meta::NextPage::LinkHeader(#rel)),
        Some(PageForm::BodyUrl) => quote!(#rt::meta::NextPage::BodyUrl),
        Some(PageForm::PageNumber) => quote!(#rt::meta::NextPage::PageNumber),
        Some(PageForm::Offset) => quote!(#rt::meta::NextPage::Offset),
        Some(PageForm::PageCount) => quote!(#rt::meta::NextPage::PageCount),
    };
    let no_pagination = opt_str(op.no_pagination.as_deref());
    let check = op.preferred_for_check;
    let params = op.params.iter().map(|p| {
        let pname = &p.name;
        let location = match p.location {
            ParamLocation::Path => quote!(#rt::meta::ParamLocation::Path),
            ParamLocation::Query => quote!(#rt::meta::ParamLocation::Query),
            ParamLocation::Header => quote!(#rt::meta::ParamLocation::Header),
            ParamLocation::Body => quote!(#rt::meta::ParamLocation::Body),
        };
        let kind = kind_meta(&p.kind);
        let required = p.required;
        let min = opt_i64(p.minimum);
        let max = opt_i64(p.maximum);
        let default = opt_str(p.default.as_ref().map(|d| d.to_string()).as_deref());
        let desc = &p.description;
        let pattern = opt_str(p.pattern.as_deref());
        quote! {
            #rt::meta::ParamMeta {
                name: #pname,
                location: #location,
                kind: #kind,
                required: #required,
                minimum: #min,
                maximum: #max,
                default: #default,
                description: #desc,
                pattern: #pattern,
            }
        }
    });
    let file_url = opt_str(op.file_url.as_deref());
    let transform = match &op.transform {
        None => quote!(::std::option::Option::None),
        Some(t) => {
            let outputs = t.outputs.iter().map(|(name, parts)| {
                let parts = parts.iter().map(jpart);
                quote!((#name, &[#(#parts),*]))
            });
            let filter = match &t.filter {
                None => quote!(::std::option::Option::None),
                Some(parts) => {
                    let parts = parts.iter().map(jpart);
                    quote!(::std::option::Option::Some(&[#(#parts),*]))
                }
            };
            quote!(::std::option::Option::Some(&#rt::transform::RecordTransform {
                outputs: &[#(#outputs),*],
                filter: #filter,
            }))
        }
    };
    let body_kind = match &op.body_kind {
        BodyKind::Json => quote!(#rt::meta::BodyKind::Json),
        BodyKind::JsonArray => quote!(#rt::meta::BodyKind::JsonArray),
        BodyKind::Form => quote!(#rt::meta::BodyKind::Form),
        BodyKind::FreeForm => quote!(#rt::meta::BodyKind::FreeForm),
        BodyKind::Related { file, mime } => {
            let mime = opt_str(mime.as_deref());
            quote!(#rt::meta::BodyKind::Related { file: #file, mime: #mime })
        }
    };
    let graphql = match &op.graphql {
        None => quote!(::std::option::Option::None),
        Some(g) => {
            let query = &g.query;
            let variables = g.variables.to_string();
            let defaults = &g.default_fields;
            let nullable = &g.nullable;
            let name = opt_str(g.operation_name.as_deref());
            quote!(::std::option::Option::Some(&#rt::meta::GraphqlMeta {
                query: #query,
                variables: #variables,
                default_fields: &[#(#defaults),*],
                nullable: &[#(#nullable),*],
                operation_name: #name,
            }))
        }
    };
    let doc = format!(
        " Metadata of `{}.{}` (`{} {}`).",
        op.entity,
        op.action.as_str(),
        op.method,
        op.path
    );
    quote! {
        #[doc = #doc]
        pub static #name: #rt::meta::OperationMeta = #rt::meta::OperationMeta {
            entity: #entity,
            action: #action,
            method: #http_method,
            path: #path,
            summary: #summary,
            description: #description,
            record_schema: #record,
            record_field: #record_field,
            record_path: &[#(#record_path),*],
            record_element: #record_element,
            next_page: #next_page,
            cursor_path: &[#(#cursor_path),*],
            page_size_param: #page_size_param,
            bulk_page_size: #bulk_page_size,
            cursor_param: #cursor_param,
            no_pagination: #no_pagination,
            preferred_for_check: #check,
            params: &[#(#params),*],
            graphql: #graphql,
            file_url: #file_url,
            body: #body_kind,
            transform: #transform,
        };
    }
}

fn describe_bounds(p: &Param) -> String {
    let mut parts = Vec::new();
    match (p.minimum, p.maximum) {
        (Some(a), Some(b)) => parts.push(format!("{a} to {b}")),
        (Some(a), None) => parts.push(format!("at least {a}")),
        (None, Some(b)) => parts.push(format!("at most {b}")),
        _ => {}
    }
    if let ParamKind::String { allowed } = &p.kind {
        if !allowed.is_empty() {
            parts.push(format!(
                "one of {}",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if let Some(d) = &p.default {
        parts.push(format!("default `{d}`"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// Whether the operation is a cursor-paginated list (its builder has `prefetch`).
fn paginated(op: &Operation) -> bool {
    op.action.is_collection() && op.pagination.is_some()
}

/// The params struct and the request builder of one operation.
fn operation(op: &Operation) -> TokenStream {
    let rt = rt();
    let st = op_static(op);
    let builder = builder_ident(op);
    let params_ty = params_ident(op);
    // Writes name their output through `write_output` (a write may have no record).
    let record = if op.record_component.is_empty() {
        format_ident!("NoRecord")
    } else {
        type_ident(&op.record_component)
    };
    let all_infos = param_infos(op);
    let action_name = op.action.as_str();
    // A write's body properties make a body struct of their own, flattened into the params.
    let (body_infos, infos): (Vec<&ParamInfo<'_>>, Vec<&ParamInfo<'_>>) = all_infos
        .iter()
        .partition(|i| op.action.is_write() && i.p.location == ParamLocation::Body);
    let body_ty = body_ident(op);
    let free_form = free_form_write(op);
    let body_struct = if free_form {
        free_form_body_struct(op)
    } else if body_infos.is_empty() {
        quote!()
    } else {
        body_struct(op, &body_infos)
    };

    // Params struct.
    let fields = infos.iter().map(|i| struct_field(i, &i.ident));
    let has_positional =
        infos.iter().any(|i| i.positional) || body_infos.iter().any(|i| i.positional);
    let derive_default = if has_positional {
        quote!()
    } else {
        quote!(Default,)
    };
    let (body_field, deny_unknown) = if free_form {
        // Kept apart from the params (a body field may share a param's name), under the
        // key the runtime reads a free-form body from.
        let doc = format!(" The request body (`{}`).", body_ty);
        (
            quote! {
                #[doc = #doc]
                #[serde(rename = "__body")]
                pub body: #body_ty,
            },
            quote!(),
        )
    } else if body_infos.is_empty() {
        (quote!(), quote!(#[serde(deny_unknown_fields)]))
    } else {
        let doc = format!(" The request body (`{}`).", body_ty);
        (
            quote! {
                #[doc = #doc]
                #[serde(flatten)]
                pub body: #body_ty,
            },
            // serde cannot deny unknown fields around a flattened struct; `execute` checks
            // params against the spec instead.
            quote!(),
        )
    };
    let params_doc = docs::raw_attrs(&format!(
        "Parameters of `{}.{}` (`{} {}`), as sent to either transport.\n\nAlso the accepted `params` of `execute(\"{}\", \"{}\", params)`: unknown keys are rejected.",
        op.entity, action_name, op.method, op.path, op.entity, action_name
    ));

    // Builder setters for optional params.
    let setters = infos
        .iter()
        .filter(|i| i.optional)
        .map(|i| setter(i, &i.ident, quote!(self.0.params_mut())));

    let (inner, output, extra) = match op.action {
        Action::List | Action::Search => {
            let inner = quote!(#rt::requests::ListRequest<#params_ty, crate::models::#record>);
            let output = quote!(#rt::Page<crate::models::#record>);
            let prefetch = if paginated(op) {
                quote! {
                    /// Fetch one page ahead in [`pages`](Self::pages) and [`stream`](Self::stream)
                    /// (off by default): the request for page n+1 starts, on its own Tokio task, as
                    /// soon as page n arrives, so it travels while you consume page n. At most one
                    /// page is held ahead; dropping the stream cancels it. With it on, a stream you
                    /// stop early has sent one request more than it used.
                    pub fn prefetch(self, on: bool) -> Self {
                        Self(self.0.prefetch(on))
                    }
                }
            } else {
                quote!()
            };
            let bulk_doc = match (&op.page_size_param, op.bulk_page_size) {
                (Some(name), Some(n)) => format!(
                    "\n\n Without an explicit [`{name}`](Self::{}), pages hold {n} records (the most the endpoint\n allows{}), so the whole set takes as few requests as possible.",
                    field_ident(name),
                    if op.params.iter().any(|p| &p.name == name && p.maximum == Some(n)) {
                        String::new()
                    } else {
                        " without leaving data out".to_string()
                    }
                ),
                _ => String::new(),
            };
            let prefetch_doc = " With [`prefetch(true)`](Self::prefetch),\n the next page is requested while you consume this one.";
            let start_doc = match &op.pagination {
                Some(p) if p.form == PageForm::Cursor => format!(
                    " Pages follow `next_cursor` (passed back as `{}`) until the API stops returning one,\n starting from this request's own `{}` if set.{prefetch_doc}{bulk_doc}",
                    p.cursor_param, p.cursor_param
                ),
                Some(p) => {
                    let how = match &p.form {
                        PageForm::HeaderCursor(h) => format!("the cursor in the `{h}` response header (passed back as `{}`)", p.cursor_param),
                        PageForm::LinkHeader(rel) => format!("the `rel=\"{rel}\"` URL of the `Link` response header (requested as given, on the API's origin only)"),
                        PageForm::BodyUrl => format!("the next-page URL in the body (`{}`, requested as given, on the API's origin only)", p.meta_key),
                        PageForm::PageNumber => format!("page numbers (`{}` counted up while `{}` says there are more)", p.cursor_param, p.meta_key),
                        PageForm::PageCount => format!("page numbers (`{}` counted up to `{}`, or until a page is empty)", p.cursor_param, p.meta_key),
                        PageForm::Offset => format!("offsets (`{}` moved on by each page's record count, until a page is empty or the total is reached)", p.cursor_param),
                        PageForm::Cursor => unreachable!("handled above"),
                    };
                    format!(" Pages follow {how} until there is no next page.{prefetch_doc}{bulk_doc}")
                }
                None => " This list is not paginated (the API returns the whole set), so there is one page.".to_string(),
            };
            let pages_doc = docs::raw_attrs(&format!(
                " Every page of `{}`, fetched lazily one request at a time.\n\n{}\n\n A failed request ends the stream with its error, after every earlier record was yielded.",
                op.entity,
                start_doc.trim()
            ));
            let stream_doc = docs::raw_attrs(&format!(
                " Every `{}` record across all pages, lazily: each page is requested when the previous one\n is used up. Collect with `futures::TryStreamExt::try_collect`.",
                op.entity
            ));
            let extra = quote! {
                #prefetch

                #pages_doc
                pub fn pages(self) -> impl #rt::__private::futures::Stream<Item = ::std::result::Result<#output, #rt::Error>> + ::std::marker::Send + 'static {
                    self.0.pages()
                }

                #stream_doc
                pub fn stream(self) -> impl #rt::__private::futures::Stream<Item = ::std::result::Result<crate::models::#record, #rt::Error>> + ::std::marker::Send + 'static {
                    self.0.stream()
                }
            };
            (inner, output, extra)
        }
        Action::Get => (
            quote!(#rt::requests::GetRequest<#params_ty, crate::models::#record>),
            quote!(crate::models::#record),
            quote!(),
        ),
        Action::Create | Action::Update | Action::Delete => {
            let output = write_output(op);
            (
                quote!(#rt::requests::WriteRequest<#params_ty, #output>),
                output,
                quote!(),
            )
        }
        Action::Download => (
            quote!(#rt::requests::DownloadRequest<#params_ty>),
            quote!(#rt::Download),
            quote! {
                /// Asks for part of the file: an HTTP `Range` value such as `bytes=0-1023`.
                pub fn range(self, range: impl ::std::convert::Into<::std::string::String>) -> Self {
                    Self(self.0.range(range))
                }
            },
        ),
    };

    let builder_doc = docs::raw_attrs(&format!(
        "Request for `{}.{}`: {}\n\n`{} {}`. {}\n\nAwait it (or call [`send`](Self::send)) to run it.",
        op.entity,
        action_name,
        docs::sanitize(if op.summary.is_empty() { &op.operation_id } else { &op.summary }),
        op.method,
        op.path,
        docs::sanitize(&op.description)
    ));
    let send_doc = match op.action {
        Action::List | Action::Search => {
            " Sends the request and returns one page of records with the cursor of the next page."
        }
        Action::Get => " Sends the request and returns the record.",
        Action::Create | Action::Update | Action::Delete if op.record_component.is_empty() => {
            " Sends the request (a write: never repeated once it may have reached the server,\n unless its method is `PUT` or `DELETE`). The API answers without a body."
        }
        Action::Create | Action::Update | Action::Delete => {
            " Sends the request (a write: never repeated once it may have reached the server,\n unless its method is `PUT` or `DELETE`) and returns the record the API answers with."
        }
        Action::Download if op.file_url.is_some() => {
            " Reads the file's metadata, then opens the file at the URL it names, and returns its\n bytes as a stream (never buffered whole). Credentials go to that URL only when it lies\n under the API's base URL."
        }
        Action::Download => {
            " Opens the download and returns the file's bytes as a stream (never buffered whole)."
        }
    };
    let future_doc = format!(" Awaiting `{builder}` is the same as calling [`{builder}::send`].");

    quote! {
        #body_struct

        #params_doc
        #[derive(Clone, Debug, PartialEq, #derive_default ::serde::Serialize, ::serde::Deserialize)]
        #deny_unknown
        #[non_exhaustive]
        pub struct #params_ty {
            #(#fields)*
            #body_field
        }

        impl #params_ty {
            /// Checks every parameter against the spec (bounds, allowed values, patterns,
            /// usable path values).
            pub fn validate(&self) -> ::std::result::Result<(), #rt::Error> {
                #rt::params::validate(&#st, self)
            }
        }

        #builder_doc
        #[derive(Clone, Debug)]
        #[must_use = "a request does nothing until it is awaited"]
        pub struct #builder(#inner);

        impl #builder {
            #(#setters)*

            /// The parameters this request will send.
            pub fn params(&self) -> &#params_ty {
                self.0.params()
            }

            #[doc = #send_doc]
            pub async fn send(self) -> ::std::result::Result<#output, #rt::Error> {
                self.0.send().await
            }

            #extra
        }

        #[doc = #future_doc]
        impl ::std::future::IntoFuture for #builder {
            type Output = ::std::result::Result<#output, #rt::Error>;
            type IntoFuture = #rt::BoxFuture<Self::Output>;
            fn into_future(self) -> Self::IntoFuture {
                ::std::future::IntoFuture::into_future(self.0)
            }
        }
    }
}

/// A write whose body is a free-form JSON object.
fn free_form_write(op: &Operation) -> bool {
    op.action.is_write() && op.body_kind == BodyKind::FreeForm
}

/// The body struct of a write with a free-form JSON object body: any fields.
fn free_form_body_struct(op: &Operation) -> TokenStream {
    let body_ty = body_ident(op);
    let doc = docs::raw_attrs(&format!(
        "The JSON body of `{}.{}` (`{} {}`): a free-form object. Add its fields with\n[`{body_ty}::field`].",
        op.entity,
        op.action.as_str(),
        op.method,
        op.path
    ));
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq, Default, ::serde::Serialize, ::serde::Deserialize)]
        #[non_exhaustive]
        pub struct #body_ty {
            /// The fields, sent as given.
            #[serde(flatten)]
            pub fields: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        }

        impl #body_ty {
            /// An empty body.
            pub fn new() -> Self {
                Self::default()
            }

            /// Sets the field `name` to `value`.
            pub fn field(
                mut self,
                name: impl ::std::convert::Into<::std::string::String>,
                value: impl ::std::convert::Into<::serde_json::Value>,
            ) -> Self {
                self.fields.insert(name.into(), value.into());
                self
            }
        }
    }
}

/// The type a write returns: its record, or `()` when the API answers without a body.
fn write_output(op: &Operation) -> TokenStream {
    if op.record_component.is_empty() {
        quote!(())
    } else {
        let record = type_ident(&op.record_component);
        quote!(crate::models::#record)
    }
}

/// `BoardsCreateBody`: the request body of a write.
fn body_ident(op: &Operation) -> Ident {
    format_ident!("{}Body", builder_ident(op))
}

/// The field of parameter `i` in a params or body struct, named `f`: its doc (description
/// and bounds), its wire name when the Rust name differs, `Option` when optional.
fn struct_field(i: &ParamInfo<'_>, f: &Ident) -> TokenStream {
    let ty = &i.rust_ty;
    let wire = &i.p.name;
    let doc = docs::attrs(&format!(
        "{}{}",
        if i.p.description.is_empty() {
            &i.p.name
        } else {
            &i.p.description
        },
        describe_bounds(i.p)
    ));
    let rename =
        if f.to_string().trim_end_matches('_') != wire.as_str() || f.to_string().ends_with('_') {
            quote!(#[serde(rename = #wire)])
        } else {
            quote!()
        };
    if i.optional {
        quote! {
            #doc
            #rename
            #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
            pub #f: ::std::option::Option<#ty>,
        }
    } else {
        quote! { #doc #rename pub #f: #ty, }
    }
}

/// A builder setter for the optional parameter `i`, stored at `#target.#field`.
fn setter(i: &ParamInfo<'_>, field: &Ident, target: TokenStream) -> TokenStream {
    let f = field;
    let doc = docs::attrs(&format!(
        "{}{}",
        if i.p.description.is_empty() {
            &i.p.name
        } else {
            &i.p.description
        },
        describe_bounds(i.p)
    ));
    match &i.p.kind {
        ParamKind::String { .. } => quote! {
            #doc
            pub fn #f(mut self, value: impl ::std::convert::Into<::std::string::String>) -> Self {
                #target.#f = ::std::option::Option::Some(value.into());
                self
            }
        },
        ParamKind::Array { items, .. } if matches!(**items, ParamKind::String { .. }) => quote! {
            #doc
            pub fn #f<I, S>(mut self, values: I) -> Self
            where
                I: ::std::iter::IntoIterator<Item = S>,
                S: ::std::convert::Into<::std::string::String>,
            {
                #target.#f = ::std::option::Option::Some(values.into_iter().map(::std::convert::Into::into).collect());
                self
            }
        },
        ParamKind::Array { items, .. } => {
            let item = param_type(items);
            quote! {
                #doc
                pub fn #f(mut self, values: impl ::std::iter::IntoIterator<Item = #item>) -> Self {
                    #target.#f = ::std::option::Option::Some(values.into_iter().collect());
                    self
                }
            }
        }
        _ => {
            let ty = &i.rust_ty;
            quote! {
                #doc
                pub fn #f(mut self, value: #ty) -> Self {
                    #target.#f = ::std::option::Option::Some(value);
                    self
                }
            }
        }
    }
}

/// The body struct of a write: required properties (without a default) are arguments of
/// `new`, so a body cannot be built without them; the others are `Option`s set by builder
/// methods. `None` is never sent; the spec's defaults are sent when a property is not set.
fn body_struct(op: &Operation, infos: &[&ParamInfo<'_>]) -> TokenStream {
    let body_ty = body_ident(op);
    // `new` is the constructor's name.
    let idents: Vec<Ident> = infos
        .iter()
        .map(|i| {
            if i.ident == "new" {
                format_ident!("new_")
            } else {
                i.ident.clone()
            }
        })
        .collect();
    let fields = infos.iter().zip(&idents).map(|(i, f)| struct_field(i, f));
    let required: Vec<(&&ParamInfo<'_>, &Ident)> = infos
        .iter()
        .zip(&idents)
        .filter(|(i, _)| i.positional)
        .collect();
    let args = required.iter().map(|(i, f)| match i.p.kind {
        ParamKind::String { .. } => quote!(#f: impl ::std::convert::Into<::std::string::String>),
        _ => {
            let ty = &i.rust_ty;
            quote!(#f: #ty)
        }
    });
    let inits = infos.iter().zip(&idents).map(|(i, f)| {
        if i.positional {
            match i.p.kind {
                ParamKind::String { .. } => quote!(#f: #f.into()),
                _ => quote!(#f),
            }
        } else {
            quote!(#f: ::std::option::Option::None)
        }
    });
    let setters = infos
        .iter()
        .zip(&idents)
        .filter(|(i, _)| i.optional)
        .map(|(i, f)| setter(i, f, quote!(self)));
    let derive_default = if required.is_empty() {
        quote!(Default,)
    } else {
        quote!()
    };
    let doc = docs::raw_attrs(&format!(
        "The JSON body of `{}.{}` (`{} {}`). Build it with [`{body_ty}::new`] (the required\nproperties) and set the others with its builder methods.",
        op.entity,
        op.action.as_str(),
        op.method,
        op.path
    ));
    let new_doc = if required.is_empty() {
        " An empty body: every property is optional."
    } else {
        " A body with the required properties; set the others with the builder methods."
    };
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq, #derive_default ::serde::Serialize, ::serde::Deserialize)]
        #[non_exhaustive]
        pub struct #body_ty {
            #(#fields)*
        }

        impl #body_ty {
            #[doc = #new_doc]
            #[allow(clippy::new_without_default)]
            pub fn new(#(#args),*) -> Self {
                #body_ty { #(#inits),* }
            }

            #(#setters)*
        }
    }
}

/// An entity's handle, its accessor on the connector, and its search types.
fn entity_handle(spec: &Spec, entity: &Entity) -> TokenStream {
    let rt = rt();
    let connector = format_ident!("{}Connector", spec.type_prefix);
    let handle = type_ident(&entity.name);
    let accessor = field_ident(&entity.name);
    let actions: Vec<&str> = entity
        .operations
        .iter()
        .map(|o| o.action.as_str())
        .collect();
    let desc = if entity.description.is_empty() {
        format!("The `{}` entity.", entity.name)
    } else {
        entity.description.clone()
    };
    let action_list = actions
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let handle_doc = docs::attrs(&format!(
        "{desc}\n\nActions: {action_list}. Get this handle with `connector.{}()`.",
        entity.name
    ));
    let accessor_doc = docs::attrs(&format!("{desc}\n\nActions: {action_list}."));
    let methods = entity.operations.iter().map(|op| {
        let builder = builder_ident(op);
        let params_ty = params_ident(op);
        let st = op_static(op);
        let all_infos = param_infos(op);
        let (body_infos, infos): (Vec<&ParamInfo<'_>>, Vec<&ParamInfo<'_>>) = all_infos
            .iter()
            .partition(|i| op.action.is_write() && i.p.location == ParamLocation::Body);
        let positional: Vec<&&ParamInfo<'_>> = infos.iter().filter(|i| i.positional).collect();
        let has_body = !body_infos.is_empty() || free_form_write(op);
        let body_arg = if has_body {
            let ty = body_ident(op);
            quote!(body: #ty)
        } else {
            quote!()
        };
        let body_init = if has_body { quote!(body,) } else { quote!() };
        let args = positional.iter().map(|i| {
            let f = &i.ident;
            match i.p.kind {
                ParamKind::String { .. } => {
                    quote!(#f: impl ::std::convert::Into<::std::string::String>)
                }
                _ => {
                    let ty = &i.rust_ty;
                    quote!(#f: #ty)
                }
            }
        });
        let inits = infos.iter().map(|i| {
            let f = &i.ident;
            if i.positional {
                match i.p.kind {
                    ParamKind::String { .. } => quote!(#f: #f.into()),
                    _ => quote!(#f),
                }
            } else {
                quote!(#f: ::std::option::Option::None)
            }
        });
        // The vendor's search is `search`, or `api_search` beside the context-store
        // `search` of an entity that has searchable fields.
        let method = match op.action {
            Action::Search if !entity.search_fields.is_empty() => {
                Ident::new("api_search", Span::call_site())
            }
            a => Ident::new(a.as_str(), Span::call_site()),
        };
        let inner = match op.action {
            Action::List | Action::Search => quote!(#rt::requests::ListRequest),
            Action::Get => quote!(#rt::requests::GetRequest),
            Action::Create | Action::Update | Action::Delete => {
                quote!(#rt::requests::WriteRequest)
            }
            Action::Download => quote!(#rt::requests::DownloadRequest),
        };
        let args = args.chain(has_body.then_some(body_arg));
        let doc = docs::attrs(&format!(
            "{}\n\n{}\n\n`{} {}`",
            if op.summary.is_empty() {
                &op.operation_id
            } else {
                &op.summary
            },
            op.description,
            op.method,
            op.path
        ));
        quote! {
            #doc
            pub fn #method(&self, #(#args),*) -> #builder {
                #builder(#inner::new(self.client.clone(), &#st, #params_ty { #(#inits,)* #body_init }))
            }
        }
    });
    let search = search_items(entity);
    let search_method = if entity.search_fields.is_empty() {
        quote!()
    } else {
        let field_ty = format_ident!("{}SearchField", entity.name.to_upper_camel_case());
        let record_ty = format_ident!("{}SearchRecord", entity.name.to_upper_camel_case());
        let doc = docs::raw_attrs(&format!(
            " Searches `{}` in Airbyte's context store (hosted mode only; in direct mode the call\n fails with `Error::HostedOnly` before any request). Fields are checked at compile time\n through [`{field_ty}`].",
            entity.name
        ));
        quote! {
            #doc
            pub fn search(&self, query: #rt::search::SearchQuery<#field_ty>) -> #rt::requests::Search<#field_ty, #record_ty> {
                #rt::requests::Search::new(self.client.clone(), query)
            }
        }
    };
    let entity_name = &entity.name;
    let sql_doc = docs::raw_attrs(&format!(
        " Runs a SQL query over Airbyte's context-store copy of `{entity_name}` (hosted mode only;\n in direct mode it fails with `Error::HostedOnly` before any request). Rows are JSON\n objects keyed by column; `.limit(n)` caps them."
    ));
    let sql_method = quote! {
        #sql_doc
        pub fn sql(&self, sql: impl ::std::convert::Into<::std::string::String>) -> #rt::requests::SqlQuery {
            #rt::requests::SqlQuery::new(self.client.clone(), #entity_name, sql.into())
        }
    };
    quote! {
        #handle_doc
        #[derive(Clone, Debug)]
        pub struct #handle {
            client: #rt::Client,
        }

        impl #handle {
            #(#methods)*
            #search_method
            #sql_method
        }

        #search

        impl crate::#connector {
            #accessor_doc
            pub fn #accessor(&self) -> #handle {
                #handle { client: self.client().clone() }
            }
        }
    }
}

/// The search field enum and search record struct of an entity (nothing if it has no
/// searchable fields).
fn search_items(entity: &Entity) -> TokenStream {
    if entity.search_fields.is_empty() {
        return quote!();
    }
    let rt = rt();
    let camel = entity.name.to_upper_camel_case();
    let field_ty = format_ident!("{camel}SearchField");
    let record_ty = format_ident!("{camel}SearchRecord");
    let entity_name = &entity.name;
    let paths: Vec<String> = entity
        .search_fields
        .iter()
        .map(|f| f.name.replace('.', "_"))
        .collect();
    let variants = variant_names(&paths);
    let wires: Vec<&str> = entity
        .search_fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let vdocs = entity.search_fields.iter().map(|f| {
        docs::attrs(&format!(
            "`{}` ({}){}",
            f.name,
            f.json_type,
            if f.description.is_empty() {
                String::new()
            } else {
                format!(": {}", f.description)
            }
        ))
    });
    let fields = entity
        .search_fields
        .iter()
        .filter(|f| f.top_level)
        .map(|f| {
            let ident = field_ident(&f.name);
            let wire = &f.name;
            let ty = match f.json_type.as_str() {
                "string" => quote!(::std::string::String),
                "integer" => quote!(i64),
                "number" => quote!(f64),
                "boolean" => quote!(bool),
                "array" => quote!(::std::vec::Vec<#rt::__private::serde_json::Value>),
                _ => quote!(#rt::__private::serde_json::Value),
            };
            let doc = docs::attrs(if f.description.is_empty() {
                &f.name
            } else {
                &f.description
            });
            let rename = if ident != wire.as_str() {
                quote!(#[serde(rename = #wire)])
            } else {
                quote!()
            };
            quote! {
                #doc
                #rename
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub #ident: ::std::option::Option<#ty>,
            }
        });
    let field_doc = docs::raw_attrs(&format!(
        " The fields of `{entity_name}` that Airbyte's context store can search, sort and return\n (nested fields are joined with `_`; their wire paths are dotted)."
    ));
    let record_doc = docs::raw_attrs(&format!(
        " One `{entity_name}` search hit: the searchable top-level fields, each optional (a\n `fields` projection returns only some)."
    ));
    let v2 = variants.clone();
    quote! {
        #field_doc
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #field_ty {
            #( #vdocs #variants, )*
        }

        impl #rt::search::SearchField for #field_ty {
            const ENTITY: &'static str = #entity_name;
            fn path(self) -> &'static str {
                match self {
                    #( Self::#v2 => #wires, )*
                }
            }
        }

        #record_doc
        #[derive(Clone, Debug, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[non_exhaustive]
        pub struct #record_ty {
            #(#fields)*
        }
    }
}

fn entity_metas(spec: &Spec) -> TokenStream {
    let rt = rt();
    let items = spec.entities.iter().map(|e| {
        let name = &e.name;
        let desc = &e.description;
        let record = &e.record_component;
        let ops = e.operations.iter().map(op_static);
        let fields = e.search_fields.iter().map(|f| {
            let n = &f.name;
            let t = &f.json_type;
            let d = &f.description;
            quote!(#rt::meta::SearchFieldMeta { name: #n, json_type: #t, description: #d })
        });
        quote! {
            #rt::meta::EntityMeta {
                name: #name,
                description: #desc,
                record_schema: #record,
                operations: &[#(&#ops),*],
                search_fields: &[#(#fields),*],
            }
        }
    });
    quote! {
        /// Every entity of the spec, in spec order.
        pub static ENTITIES: &[#rt::meta::EntityMeta] = &[#(#items),*];
    }
}

/// The entity layer: operation metadata, entity handles, params and builders.
pub fn entity_layer(spec: &Spec) -> TokenStream {
    let rt = rt();
    let ops_meta = spec.operations().map(op_meta);
    let all_ops = spec.operations().map(op_static);
    let per_op = spec.operations().map(operation);
    let handles = spec.entities.iter().map(|e| entity_handle(spec, e));
    let entity_metas = entity_metas(spec);
    let connector_meta = crate::emit_connector::connector_meta(spec);
    quote! {
        /// Operation, entity and connector metadata from the spec (params, bounds, extractors,
        /// auth schemes).
        mod ops {
            #(#ops_meta)*

            /// Every operation of the spec, entity by entity.
            pub static OPERATIONS: &[&#rt::meta::OperationMeta] = &[#(&#all_ops),*];

            #entity_metas

            #connector_meta
        }

        /// Entity handles, request builders and their params types.
        pub mod entities {
            use super::ops::*;

            #(#handles)*
            #(#per_op)*
        }
    }
}
