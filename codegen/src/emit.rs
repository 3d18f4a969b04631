//! Emitting the entity layer with `quote!`: open enums, params types, request builders, entity
//! handles, operation metadata and the `execute` dispatch table. The runtime pieces these call
//! (`crate::runtime`, `crate::pagination`, `crate::meta`, the connector) are hand-written in the
//! SDK crate.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::docs;
use crate::model::{Action, Entity, Operation, Param, ParamKind, ParamLocation, Spec};
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

            crate::open_enum_impls!(#name { #( #variants2 = #wires ),* });
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

fn param_infos(op: &Operation) -> Vec<ParamInfo<'_>> {
    op.params
        .iter()
        .map(|p| {
            let rust_ty = match p.kind {
                ParamKind::String { .. } => quote!(::std::string::String),
                ParamKind::Integer => quote!(i64),
                ParamKind::Boolean => quote!(bool),
                ParamKind::Number => quote!(f64),
            };
            let positional = p.required && p.default.is_none();
            ParamInfo {
                p,
                ident: field_ident(&p.name),
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

/// `OperationMeta` statics.
fn op_meta(spec: &Spec, op: &Operation) -> TokenStream {
    let name = op_static(op);
    let entity = &op.entity;
    let action = match op.action {
        Action::List => quote!(crate::meta::Action::List),
        Action::Get => quote!(crate::meta::Action::Get),
    };
    let path = &op.path;
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
    let cursor_param = opt_str(op.pagination.as_ref().map(|p| p.cursor_param.as_str()));
    let no_pagination = opt_str(op.no_pagination.as_deref());
    let check = op.preferred_for_check;
    let params = op.params.iter().map(|p| {
        let pname = &p.name;
        let location = match p.location {
            ParamLocation::Path => quote!(crate::meta::ParamLocation::Path),
            ParamLocation::Query => quote!(crate::meta::ParamLocation::Query),
        };
        let kind = match &p.kind {
            ParamKind::String { allowed } => {
                quote!(crate::meta::ParamKind::String { allowed: &[#(#allowed),*] })
            }
            ParamKind::Integer => quote!(crate::meta::ParamKind::Integer),
            ParamKind::Boolean => quote!(crate::meta::ParamKind::Boolean),
            ParamKind::Number => quote!(crate::meta::ParamKind::Number),
        };
        let required = p.required;
        let min = opt_i64(p.minimum);
        let max = opt_i64(p.maximum);
        let default = opt_str(p.default.as_ref().map(|d| d.to_string()).as_deref());
        let desc = &p.description;
        quote! {
            crate::meta::ParamMeta {
                name: #pname,
                location: #location,
                kind: #kind,
                required: #required,
                minimum: #min,
                maximum: #max,
                default: #default,
                description: #desc,
            }
        }
    });
    let doc = format!(
        " Metadata of `{}.{}` (`GET {}`).",
        op.entity,
        op.action.as_str(),
        op.path
    );
    let _ = spec;
    quote! {
        #[doc = #doc]
        pub static #name: crate::meta::OperationMeta = crate::meta::OperationMeta {
            entity: #entity,
            action: #action,
            method: "GET",
            path: #path,
            summary: #summary,
            description: #description,
            record_schema: #record,
            record_field: #record_field,
            record_path: &[#(#record_path),*],
            cursor_path: &[#(#cursor_path),*],
            page_size_param: #page_size_param,
            bulk_page_size: #bulk_page_size,
            cursor_param: #cursor_param,
            no_pagination: #no_pagination,
            preferred_for_check: #check,
            params: &[#(#params),*],
        };
    }
}

fn param_checks(op: &Operation, infos: &[ParamInfo<'_>]) -> Vec<TokenStream> {
    let st = op_static(op);
    infos
        .iter()
        .enumerate()
        .map(|(idx, i)| {
            let f = &i.ident;
            let value = match (&i.p.kind, i.optional) {
                (ParamKind::String { .. }, true) => quote!(self.#f.as_deref()),
                (ParamKind::String { .. }, false) => {
                    quote!(::std::option::Option::Some(self.#f.as_str()))
                }
                (_, true) => quote!(self.#f),
                (_, false) => quote!(::std::option::Option::Some(self.#f)),
            };
            match i.p.kind {
                ParamKind::String { .. } => quote!(crate::runtime::check_str(&#st, #idx, #value)?;),
                ParamKind::Integer => quote!(crate::runtime::check_int(&#st, #idx, #value)?;),
                ParamKind::Boolean | ParamKind::Number => quote!(let _ = #value;),
            }
        })
        .collect()
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

fn operation(spec: &Spec, entity: &Entity, op: &Operation) -> TokenStream {
    let st = op_static(op);
    let builder = builder_ident(op);
    let params_ty = params_ident(op);
    let record = type_ident(&op.record_component);
    let infos = param_infos(op);
    let entity_name = &op.entity;
    let action_name = op.action.as_str();

    // Params struct.
    let fields = infos.iter().map(|i| {
        let f = &i.ident;
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
        let rename = if f.to_string().trim_end_matches('_') != wire.as_str()
            || f.to_string().ends_with('_')
        {
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
    });
    let has_positional = infos.iter().any(|i| i.positional);
    let derive_default = if has_positional {
        quote!()
    } else {
        quote!(Default,)
    };
    let checks = param_checks(op, &infos);
    let (prefetch_field, prefetch_setter) = if paginated(op) {
        (
            quote!(pub(crate) prefetch: bool,),
            quote! {
                /// Fetch one page ahead in [`pages`](Self::pages) and [`stream`](Self::stream)
                /// (off by default): the request for page n+1 starts, on its own Tokio task, as
                /// soon as page n arrives, so it travels while you consume page n. At most one
                /// page is held ahead; dropping the stream cancels it. With it on, a stream you
                /// stop early has sent one request more than it used.
                pub fn prefetch(mut self, on: bool) -> Self {
                    self.prefetch = on;
                    self
                }
            },
        )
    } else {
        (quote!(), quote!())
    };
    let params_doc = docs::raw_attrs(&format!(
        "Parameters of `{}.{}` (`GET {}`), as sent to either transport.\n\nAlso the accepted `params` of `execute(\"{}\", \"{}\", params)`: unknown keys are rejected.",
        op.entity, action_name, op.path, op.entity, action_name
    ));

    // Builder setters for optional params.
    let setters = infos.iter().filter(|i| i.optional).map(|i| {
        let f = &i.ident;
        let doc = docs::attrs(&format!(
            "{}{}",
            if i.p.description.is_empty() { &i.p.name } else { &i.p.description },
            describe_bounds(i.p)
        ));
        match i.p.kind {
            ParamKind::String { .. } => quote! {
                #doc
                pub fn #f(mut self, value: impl ::std::convert::Into<::std::string::String>) -> Self {
                    self.params.#f = ::std::option::Option::Some(value.into());
                    self
                }
            },
            _ => {
                let ty = &i.rust_ty;
                quote! {
                    #doc
                    pub fn #f(mut self, value: #ty) -> Self {
                        self.params.#f = ::std::option::Option::Some(value);
                        self
                    }
                }
            }
        }
    });

    let transport_method = match op.action {
        Action::List => quote!(list),
        Action::Get => quote!(get),
    };
    let (output, extra) = match op.action {
        Action::List => {
            let output = quote!(crate::Page<crate::models::#record>);
            let pages = match &op.pagination {
                Some(p) => {
                    let cursor_field = field_ident(&p.cursor_param);
                    let bulk = match (&op.page_size_param, op.bulk_page_size) {
                        (Some(name), Some(n)) => {
                            let f = field_ident(name);
                            quote! {
                                let mut this = self;
                                if this.params.#f.is_none() {
                                    this.params.#f = ::std::option::Option::Some(#n);
                                }
                            }
                        }
                        _ => quote!(let this = self;),
                    };
                    quote! {
                        #bulk
                        crate::pagination::pages(#entity_name, this.prefetch, this, |b: &Self, cursor: ::std::option::Option<::std::string::String>| {
                            let mut b = b.clone();
                            if cursor.is_some() {
                                b.params.#cursor_field = cursor;
                            }
                            b.send()
                        })
                    }
                }
                None => quote!(crate::pagination::single(self.send())),
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
            let start_doc = match &op.pagination {
                Some(p) => format!(
                    " Pages follow `next_cursor` (passed back as `{}`) until the API stops returning one,\n starting from this request's own `{}` if set. With [`prefetch(true)`](Self::prefetch),\n the next page is requested while you consume this one.{bulk_doc}",
                    p.cursor_param, p.cursor_param
                ),
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
                #pages_doc
                pub fn pages(self) -> impl ::futures::Stream<Item = ::std::result::Result<crate::Page<crate::models::#record>, crate::Error>> + ::std::marker::Send + 'static {
                    #pages
                }

                #stream_doc
                pub fn stream(self) -> impl ::futures::Stream<Item = ::std::result::Result<crate::models::#record, crate::Error>> + ::std::marker::Send + 'static {
                    crate::pagination::items(self.pages())
                }
            };
            (output, extra)
        }
        Action::Get => (quote!(crate::models::#record), quote!()),
    };
    let _ = (spec, entity);

    let builder_doc = docs::raw_attrs(&format!(
        "Request for `{}.{}`: {}\n\n`GET {}`. {}\n\nAwait it (or call [`send`](Self::send)) to run it.",
        op.entity,
        action_name,
        docs::sanitize(if op.summary.is_empty() { &op.operation_id } else { &op.summary }),
        op.path,
        docs::sanitize(&op.description)
    ));
    let send_doc = match op.action {
        Action::List => {
            " Sends the request and returns one page of records with the cursor of the next page."
        }
        Action::Get => " Sends the request and returns the record.",
    };
    let future_doc = format!(" Awaiting `{builder}` is the same as calling [`{builder}::send`].");

    quote! {
        #params_doc
        #[derive(Clone, Debug, PartialEq, #derive_default ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct #params_ty {
            #(#fields)*
        }

        impl #params_ty {
            /// Checks every parameter against the spec (bounds, allowed values, non-empty ids).
            pub fn validate(&self) -> ::std::result::Result<(), crate::Error> {
                #(#checks)*
                ::std::result::Result::Ok(())
            }
        }

        #builder_doc
        #[derive(Clone, Debug)]
        #[must_use = "a request does nothing until it is awaited"]
        pub struct #builder {
            pub(crate) connector: crate::IncidentIoConnector,
            pub(crate) params: #params_ty,
            #prefetch_field
        }

        impl #builder {
            #(#setters)*
            #prefetch_setter

            /// The parameters this request will send.
            pub fn params(&self) -> &#params_ty {
                &self.params
            }

            #[doc = #send_doc]
            pub async fn send(self) -> ::std::result::Result<#output, crate::Error> {
                self.params.validate()?;
                self.connector.transport().#transport_method(&#st, &self.params).await
            }

            #extra
        }

        #[doc = #future_doc]
        impl ::std::future::IntoFuture for #builder {
            type Output = ::std::result::Result<#output, crate::Error>;
            type IntoFuture = crate::BoxFuture<Self::Output>;
            fn into_future(self) -> Self::IntoFuture {
                ::std::boxed::Box::pin(self.send())
            }
        }
    }
}

/// Whether the operation is a cursor-paginated list (its builder has `prefetch`).
fn paginated(op: &Operation) -> bool {
    matches!(op.action, Action::List) && op.pagination.is_some()
}

/// The `prefetch` field's initializer in a builder literal (paginated lists only).
fn prefetch_init(op: &Operation) -> TokenStream {
    if paginated(op) {
        quote!(prefetch: false,)
    } else {
        quote!()
    }
}

fn entity_handle(entity: &Entity) -> TokenStream {
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
    let handle_doc = docs::attrs(&format!(
        "{desc}\n\nActions: {}. Get this handle with `connector.{}()`.",
        actions
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", "),
        entity.name
    ));
    let accessor_doc = docs::attrs(&format!(
        "{desc}\n\nActions: {}.",
        actions
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let methods = entity.operations.iter().map(|op| {
        let builder = builder_ident(op);
        let params_ty = params_ident(op);
        let infos = param_infos(op);
        let positional: Vec<&ParamInfo<'_>> = infos.iter().filter(|i| i.positional).collect();
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
        let method = Ident::new(op.action.as_str(), Span::call_site());
        let prefetch_init = prefetch_init(op);
        let doc = docs::attrs(&format!(
            "{}\n\n{}\n\n`GET {}`",
            if op.summary.is_empty() {
                &op.operation_id
            } else {
                &op.summary
            },
            op.description,
            op.path
        ));
        quote! {
            #doc
            pub fn #method(&self, #(#args),*) -> #builder {
                #builder {
                    connector: self.connector.clone(),
                    params: #params_ty { #(#inits),* },
                    #prefetch_init
                }
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
            pub fn search(&self, query: crate::search::SearchQuery<#field_ty>) -> crate::search::Search<#field_ty, #record_ty> {
                crate::search::Search::new(self.connector.clone(), query)
            }
        }
    };
    quote! {
        #handle_doc
        #[derive(Clone, Debug)]
        pub struct #handle {
            connector: crate::IncidentIoConnector,
        }

        impl #handle {
            #(#methods)*
            #search_method
        }

        #search

        impl crate::IncidentIoConnector {
            #accessor_doc
            pub fn #accessor(&self) -> #handle {
                #handle { connector: self.clone() }
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
                "array" => quote!(::std::vec::Vec<::serde_json::Value>),
                _ => quote!(::serde_json::Value),
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

        impl crate::search::SearchField for #field_ty {
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

fn dispatch(spec: &Spec) -> TokenStream {
    let check_arms = spec.operations().map(|op| {
        let entity = &op.entity;
        let action = op.action.as_str();
        let params_ty = params_ident(op);
        let st = op_static(op);
        quote! {
            (#entity, #action) => {
                let p: entities::#params_ty = crate::runtime::parse_params(&ops::#st, params)?;
                p.validate()?;
                crate::transport::params_object(&ops::#st, &p)
            }
        }
    });
    quote! {
        /// Checks untyped params against the operation (names, types, bounds) without sending,
        /// and returns them as sent: defaults of required parameters filled in, `null`s dropped.
        pub(crate) fn check_params(
            op: &'static crate::meta::OperationMeta,
            params: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        ) -> ::std::result::Result<::serde_json::Map<::std::string::String, ::serde_json::Value>, crate::Error> {
            match (op.entity, op.action.as_str()) {
                #(#check_arms)*
                _ => ::std::result::Result::Err(crate::runtime::unknown_operation(op.entity, op.action.as_str())),
            }
        }
    }
}

fn entity_metas(spec: &Spec) -> TokenStream {
    let items = spec.entities.iter().map(|e| {
        let name = &e.name;
        let desc = &e.description;
        let record = &e.record_component;
        let ops = e.operations.iter().map(op_static);
        let fields = e.search_fields.iter().map(|f| {
            let n = &f.name;
            let t = &f.json_type;
            let d = &f.description;
            let _ = f.top_level;
            quote!(crate::meta::SearchFieldMeta { name: #n, json_type: #t, description: #d })
        });
        quote! {
            crate::meta::EntityMeta {
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
        pub static ENTITIES: &[crate::meta::EntityMeta] = &[#(#items),*];
    }
}

/// The whole entity layer.
pub fn entity_layer(spec: &Spec) -> TokenStream {
    let ops_meta = spec.operations().map(|op| op_meta(spec, op));
    let all_ops = spec.operations().map(op_static);
    let per_op = spec
        .entities
        .iter()
        .flat_map(|e| e.operations.iter().map(move |op| (e, op)))
        .map(|(e, op)| operation(spec, e, op));
    let handles = spec.entities.iter().map(entity_handle);
    let entity_metas = entity_metas(spec);
    let dispatch = dispatch(spec);
    let name = &spec.connector_name;
    let def_id = &spec.definition_id;
    let version = &spec.version;
    let base = spec
        .server_url
        .as_deref()
        .unwrap_or("https://api.incident.io");
    quote! {
        /// Operation and entity metadata from the spec (params, bounds, extractors).
        pub mod ops {
            #(#ops_meta)*

            /// Every operation of the spec, entity by entity.
            pub static OPERATIONS: &[&crate::meta::OperationMeta] = &[#(&#all_ops),*];

            #entity_metas

            /// `info.x-airbyte-connector-name`.
            pub const CONNECTOR_NAME: &str = #name;
            /// `info.x-airbyte-connector-definition-id`: the Airbyte connector definition.
            pub const DEFINITION_ID: &str = #def_id;
            /// `info.version` of the spec this crate was generated from.
            pub const SPEC_VERSION: &str = #version;
            /// The API's base URL (`servers[0].url`).
            pub const DEFAULT_BASE_URL: &str = #base;
        }

        /// Entity handles, request builders and their params types.
        pub mod entities {
            use super::ops::*;

            #(#handles)*
            #(#per_op)*
        }

        #dispatch
    }
}
