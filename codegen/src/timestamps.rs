//! Timestamp fields of the generated models decode through the runtime's RFC 3339 reader
//! (`connector_sdk_runtime::time`): the same `chrono::DateTime<Utc>` type and the same
//! accepted values as chrono's own `Deserialize`, without its general format parser on the
//! common path. This pass adds the `#[serde(deserialize_with = ...)]` attribute to every
//! field typed `DateTime<Utc>` or `Option<DateTime<Utc>>`.

use quote::ToTokens;

/// The pass (run over the generated file).
pub struct FastTimestamps {
    /// Fields changed.
    pub fields: usize,
}

/// `::chrono::DateTime<::chrono::offset::Utc>` in any spelling typify uses.
fn is_datetime_utc(ty: &syn::Type) -> bool {
    let text = ty.to_token_stream().to_string().replace(' ', "");
    matches!(
        text.as_str(),
        "::chrono::DateTime<::chrono::offset::Utc>"
            | "chrono::DateTime<chrono::offset::Utc>"
            | "::chrono::DateTime<::chrono::Utc>"
            | "chrono::DateTime<chrono::Utc>"
    )
}

/// The `T` of `Option<T>` (`::std::option::Option<T>` or `Option<T>`).
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// Whether the field's `#[serde(...)]` attributes already say `default` or name a
/// deserializer (then the field is left alone, or `default` is not repeated).
fn serde_words(attrs: &[syn::Attribute]) -> (bool, bool) {
    let mut has_default = false;
    let mut has_with = false;
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|m| {
            if m.path.is_ident("default") {
                has_default = true;
            }
            if m.path.is_ident("deserialize_with") || m.path.is_ident("with") {
                has_with = true;
            }
            // Skip any `= value` part.
            if m.input.peek(syn::Token![=]) {
                let _: syn::Expr = m.value()?.parse()?;
            }
            Ok(())
        });
    }
    (has_default, has_with)
}

impl syn::visit_mut::VisitMut for FastTimestamps {
    fn visit_field_mut(&mut self, f: &mut syn::Field) {
        let (has_default, has_with) = serde_words(&f.attrs);
        if !has_with {
            if is_datetime_utc(&f.ty) {
                f.attrs.push(syn::parse_quote!(
                    #[serde(deserialize_with = "::connector_sdk_runtime::time::deserialize")]
                ));
                self.fields += 1;
            } else if option_inner(&f.ty).is_some_and(is_datetime_utc) {
                f.attrs.push(if has_default {
                    syn::parse_quote!(
                        #[serde(deserialize_with = "::connector_sdk_runtime::time::deserialize_option")]
                    )
                } else {
                    syn::parse_quote!(
                        #[serde(default, deserialize_with = "::connector_sdk_runtime::time::deserialize_option")]
                    )
                });
                self.fields += 1;
            }
        }
        syn::visit_mut::visit_field_mut(self, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_attribute_to_timestamp_fields_only() {
        let mut file: syn::File = syn::parse_quote! {
            pub struct A {
                pub at: ::chrono::DateTime<::chrono::offset::Utc>,
                #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                pub maybe: ::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
                pub defaulted: ::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                pub name: ::std::string::String,
                #[serde(with = "custom")]
                pub custom: ::chrono::DateTime<::chrono::offset::Utc>,
            }
        };
        let mut pass = FastTimestamps { fields: 0 };
        syn::visit_mut::VisitMut::visit_file_mut(&mut pass, &mut file);
        assert_eq!(pass.fields, 3);
        let text = file.to_token_stream().to_string();
        assert_eq!(text.matches("time::deserialize\"").count(), 1, "{text}");
        assert_eq!(text.matches("time::deserialize_option\"").count(), 2);
        // `default` is added once where it was missing, never repeated.
        assert_eq!(text.matches("(default ,").count(), 2, "{text}");
    }
}
