//! Doc text: spec descriptions made safe for rustdoc, emitted one `#[doc]` per line so
//! prettyplease prints clean `///` comments instead of `/** */` blocks.

use proc_macro2::TokenStream;
use quote::quote;

/// Escapes spec prose for rustdoc: outside backtick code spans, `[`/`]` (would be intra-doc
/// links) and `<`/`>` (would be HTML) are backslash-escaped and bare URLs are wrapped in `<>`.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(part);
            continue;
        }
        let mut rest = part;
        while !rest.is_empty() {
            let url_at = ["https://", "http://"]
                .iter()
                .filter_map(|p| rest.find(p))
                .min();
            let (plain, tail) = match url_at {
                Some(at) => rest.split_at(at),
                None => (rest, ""),
            };
            for c in plain.chars() {
                if matches!(c, '[' | ']' | '<' | '>') {
                    out.push('\\');
                }
                out.push(c);
            }
            if tail.is_empty() {
                break;
            }
            let end = tail
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ','))
                .unwrap_or(tail.len());
            let url = tail[..end].trim_end_matches('.');
            out.push('<');
            out.push_str(url);
            out.push('>');
            rest = &tail[url.len()..];
        }
    }
    out
}

/// One `#[doc = " line"]` attribute per line of `text` (sanitized); nothing for empty text.
pub fn attrs(text: &str) -> TokenStream {
    let text = sanitize(text.trim());
    let lines = text.lines().map(|l| {
        let l = l.trim_end();
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote! { #( #[doc = #lines] )* }
}

/// Like [`attrs`] but for text already in rustdoc markdown (written by the generator itself).
pub fn raw_attrs(text: &str) -> TokenStream {
    let lines = text.trim().lines().map(|l| {
        let l = l.trim_end();
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote! { #( #[doc = #lines] )* }
}

/// Splits multi-line `#[doc]` attributes into one per line and drops typify's
/// `<details>JSON schema</details>` blocks, across a whole syntax tree.
pub struct DocCleaner {
    /// Also sanitize the text (for docs that came from spec descriptions).
    pub sanitize: bool,
}

impl DocCleaner {
    fn clean_attrs(&self, attrs: &mut Vec<syn::Attribute>) {
        let mut out = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            let Some(text) = doc_text(&attr) else {
                out.push(attr);
                continue;
            };
            let text = strip_details(&text);
            let text = if self.sanitize { sanitize(&text) } else { text };
            let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
            let first = lines.iter().position(|l| !l.trim().is_empty());
            let last = lines.iter().rposition(|l| !l.trim().is_empty());
            if let (Some(first), Some(last)) = (first, last) {
                for line in &lines[first..=last] {
                    let line = line.strip_prefix(' ').unwrap_or(line);
                    let value = if line.is_empty() {
                        String::new()
                    } else {
                        format!(" {line}")
                    };
                    out.push(syn::parse_quote!(#[doc = #value]));
                }
            }
        }
        *attrs = out;
    }
}

fn doc_text(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("doc") {
        return None;
    }
    let syn::Meta::NameValue(nv) = &attr.meta else {
        return None;
    };
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

fn strip_details(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(start) = out.find("<details>") {
        let end = out[start..]
            .find("</details>")
            .map(|e| start + e + "</details>".len())
            .unwrap_or(out.len());
        out.replace_range(start..end, "");
    }
    out
}

impl syn::visit_mut::VisitMut for DocCleaner {
    fn visit_field_mut(&mut self, f: &mut syn::Field) {
        self.clean_attrs(&mut f.attrs);
        syn::visit_mut::visit_field_mut(self, f);
    }
    fn visit_variant_mut(&mut self, v: &mut syn::Variant) {
        self.clean_attrs(&mut v.attrs);
        syn::visit_mut::visit_variant_mut(self, v);
    }
    fn visit_item_struct_mut(&mut self, i: &mut syn::ItemStruct) {
        self.clean_attrs(&mut i.attrs);
        syn::visit_mut::visit_item_struct_mut(self, i);
    }
    fn visit_item_enum_mut(&mut self, i: &mut syn::ItemEnum) {
        self.clean_attrs(&mut i.attrs);
        syn::visit_mut::visit_item_enum_mut(self, i);
    }
    fn visit_item_mod_mut(&mut self, i: &mut syn::ItemMod) {
        self.clean_attrs(&mut i.attrs);
        syn::visit_mut::visit_item_mod_mut(self, i);
    }
    fn visit_impl_item_fn_mut(&mut self, i: &mut syn::ImplItemFn) {
        self.clean_attrs(&mut i.attrs);
        syn::visit_mut::visit_impl_item_fn_mut(self, i);
    }
    fn visit_item_fn_mut(&mut self, i: &mut syn::ItemFn) {
        self.clean_attrs(&mut i.attrs);
        syn::visit_mut::visit_item_fn_mut(self, i);
    }
    fn visit_item_type_mut(&mut self, i: &mut syn::ItemType) {
        self.clean_attrs(&mut i.attrs);
        syn::visit_mut::visit_item_type_mut(self, i);
    }
    fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
        self.clean_attrs(&mut i.attrs);
        syn::visit_mut::visit_item_impl_mut(self, i);
    }
}

/// Gives every field of the generated model structs a doc line: the property's description
/// from the spec (typify drops descriptions that sit beside a `$ref`), else a plain phrase.
pub fn fill_field_docs(tokens: TokenStream, doc: &serde_yaml_ng::Value) -> TokenStream {
    use std::collections::HashMap;
    let mut descriptions: HashMap<(String, String), String> = HashMap::new();
    if let Some(serde_yaml_ng::Value::Mapping(schemas)) =
        doc.get("components").and_then(|c| c.get("schemas"))
    {
        for (name, schema) in schemas {
            let Some(serde_yaml_ng::Value::Mapping(props)) = schema.get("properties") else {
                continue;
            };
            for (prop, sub) in props {
                if let (Some(n), Some(p), Some(d)) = (
                    name.as_str(),
                    prop.as_str(),
                    sub.get("description").and_then(|d| d.as_str()),
                ) {
                    descriptions.insert((n.to_string(), p.to_string()), d.trim().to_string());
                }
            }
        }
    }
    struct Filler(HashMap<(String, String), String>);
    impl syn::visit_mut::VisitMut for Filler {
        fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
            let owner = item.ident.to_string();
            for field in item.fields.iter_mut() {
                if field.attrs.iter().any(|a| a.path().is_ident("doc")) {
                    continue;
                }
                let Some(ident) = &field.ident else { continue };
                let prop = ident.to_string().trim_end_matches('_').to_string();
                let text = match self.0.get(&(owner.clone(), prop.clone())) {
                    Some(d) => sanitize(d),
                    None => format!("The `{prop}` field."),
                };
                for line in text.lines().rev() {
                    let value = format!(" {}", line.trim_end());
                    field.attrs.insert(0, syn::parse_quote!(#[doc = #value]));
                }
            }
        }
    }
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(mut f) => {
            syn::visit_mut::VisitMut::visit_file_mut(&mut Filler(descriptions), &mut f);
            quote!(#f)
        }
        Err(_) => tokens,
    }
}

/// Marks every model struct `#[non_exhaustive]` (new fields from a newer spec are then not a
/// breaking change) and gives undocumented items of the raw module a doc line.
pub fn mark_models(tokens: TokenStream) -> TokenStream {
    struct Marker;
    fn has_doc(attrs: &[syn::Attribute]) -> bool {
        attrs.iter().any(|a| a.path().is_ident("doc"))
    }
    impl syn::visit_mut::VisitMut for Marker {
        fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
            let is_model = item.attrs.iter().any(|a| {
                a.path().is_ident("derive")
                    && a.meta.to_token_stream().to_string().contains("Deserialize")
            });
            if is_model {
                item.attrs.push(syn::parse_quote!(#[non_exhaustive]));
            }
            if !has_doc(&item.attrs) {
                let text = format!(" The `{}` object.", item.ident);
                item.attrs.insert(0, syn::parse_quote!(#[doc = #text]));
            }
            syn::visit_mut::visit_item_struct_mut(self, item);
        }
        fn visit_item_enum_mut(&mut self, item: &mut syn::ItemEnum) {
            if !has_doc(&item.attrs) {
                let text = format!(" The `{}` values.", item.ident);
                item.attrs.insert(0, syn::parse_quote!(#[doc = #text]));
            }
            for v in item.variants.iter_mut() {
                if !has_doc(&v.attrs) {
                    let text = format!(" `{}`.", v.ident);
                    v.attrs.insert(0, syn::parse_quote!(#[doc = #text]));
                }
            }
            syn::visit_mut::visit_item_enum_mut(self, item);
        }
    }
    use quote::ToTokens;
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(mut f) => {
            syn::visit_mut::VisitMut::visit_file_mut(&mut Marker, &mut f);
            quote!(#f)
        }
        Err(_) => tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_links_html_and_urls_outside_code() {
        assert_eq!(
            sanitize("Use status[one_of] or <key> at https://x.io/a. Keep `a[b]`"),
            "Use status\\[one_of\\] or \\<key\\> at <https://x.io/a>. Keep `a[b]`"
        );
    }

    #[test]
    fn strips_typify_details() {
        assert_eq!(strip_details("A\n\n<details>x\n</details>"), "A\n\n");
    }
}
