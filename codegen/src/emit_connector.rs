//! Emitting the connector-level items of a generated crate: the `<Prefix>Connector` type and
//! its builder (thin wrappers around the runtime's `Client`), the auth config type built from
//! the spec's auth schemes, the `Auth` choice, hosted creation, the static `ConnectorMeta`,
//! and the modules and re-exports every generated crate has (`meta`, `introspect`, `search`,
//! `retry`, `Error`, `Page`, ...).

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::auth::{AuthKind, AuthScheme, TemplatePart};
use crate::docs;
use crate::emit::{field_ident, rt};
use crate::model::Spec;

fn opt_str(v: Option<&str>) -> TokenStream {
    match v {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}

/// The static metadata the runtime works from: auth schemes, the connector, its span.
pub fn connector_meta(spec: &Spec) -> TokenStream {
    let rt = rt();
    let schemes = spec.auth.iter().map(auth_scheme_meta);
    let name = &spec.connector_name;
    let display = &spec.display_name;
    let prefix = &spec.type_prefix;
    let def_id = &spec.definition_id;
    let version = &spec.version;
    let base = spec.server_url.as_deref().unwrap_or_default();
    let env_prefix = &spec.env_prefix;
    let span_name = format!("{}.call", spec.connector_name.replace('-', "_"));
    let credentials_hint = credentials_hint(spec);
    let auth_example = auth_example(spec);
    let rate_limit = opt_str(spec.rate_limit_hint.as_deref());
    let config = spec.config.iter().map(|c| {
        let name = &c.name;
        let desc = &c.description;
        let default = opt_str(c.default.as_deref());
        let env = config_env(spec, &c.name);
        let server = c.server_variable;
        quote! {
            #rt::meta::ConfigFieldMeta { name: #name, description: #desc, default: #default, env: #env, server_variable: #server }
        }
    });
    let config_params = spec.config_params.iter().map(|c| {
        let operation = match &c.operation {
            Some((e, a)) => quote!(::std::option::Option::Some((#e, #a))),
            None => quote!(::std::option::Option::None),
        };
        let param = &c.param;
        let key = &c.config_key;
        let map = c.map.iter().map(|(k, v)| quote!((#k, #v)));
        let required = c.required;
        let split = match &c.split {
            Some((sep, i)) => quote!(::std::option::Option::Some((#sep, #i))),
            None => quote!(::std::option::Option::None),
        };
        quote! {
            #rt::meta::ConfigParamMeta { operation: #operation, param: #param, config_key: #key, map: &[#(#map),*], required: #required, split: #split }
        }
    });
    let error_check = match &spec.error_check {
        None => quote!(::std::option::Option::None),
        Some(c) => {
            let field = &c.field;
            let on_value = c.on_value.to_string();
            let message = opt_str(c.message_field.as_deref());
            quote!(::std::option::Option::Some(#rt::meta::ErrorCheckMeta { field: #field, on_value: #on_value, message_field: #message }))
        }
    };
    quote! {
        /// The auth schemes of the spec (`components.securitySchemes`).
        pub static AUTH: &[#rt::meta::AuthSchemeMeta] = &[#(#schemes),*];

        /// Opens the span of one call.
        fn call_span(entity: &str, action: &str, transport: &'static str) -> #rt::__private::tracing::Span {
            #rt::__private::tracing::debug_span!(
                #span_name,
                entity = entity,
                action = action,
                transport = transport,
                status = #rt::__private::tracing::field::Empty,
                attempts = #rt::__private::tracing::field::Empty,
                intent = #rt::__private::tracing::field::Empty,
            )
        }

        /// The connector, as the runtime sees it.
        pub static CONNECTOR: #rt::meta::ConnectorMeta = #rt::meta::ConnectorMeta {
            name: #name,
            display_name: #display,
            type_prefix: #prefix,
            auth_example: #auth_example,
            definition_id: #def_id,
            version: #version,
            base_url: #base,
            env_prefix: #env_prefix,
            entities: ENTITIES,
            operations: OPERATIONS,
            auth: AUTH,
            config: &[#(#config),*],
            config_params: &[#(#config_params),*],
            error_check: #error_check,
            spec_json: ::std::include_str!(::std::concat!(::std::env!("OUT_DIR"), "/spec.json")),
            user_agent: ::std::concat!(::std::env!("CARGO_PKG_NAME"), "/", ::std::env!("CARGO_PKG_VERSION")),
            hints: #rt::Hints {
                service: #display,
                credentials: #credentials_hint,
                rate_limit: #rate_limit,
            },
            call_span,
            spec_cache: ::std::sync::OnceLock::new(),
        };
    }
}

/// The environment variable of a configuration value (`BRAMBLECLOUD_WORKSPACE`).
pub(crate) fn config_env(spec: &Spec, name: &str) -> String {
    use heck::ToShoutySnakeCase;
    format!("{}_{}", spec.env_prefix, name.to_shouty_snake_case())
}

/// The builder setter of a configuration value: its name (`workspace`), with `_config`
/// appended where that name is a builder method already.
pub fn config_setter(name: &str) -> proc_macro2::Ident {
    const TAKEN: &[&str] = &[
        "auth",
        "base_url",
        "connect_timeout",
        "timeout",
        "retry_policy",
        "no_retries",
        "rate_limit",
        "max_response_bytes",
        "token_url",
        "user_agent_suffix",
        "build",
        "config",
    ];
    let ident = crate::emit::field_ident(name);
    if TAKEN.contains(&ident.to_string().as_str()) {
        crate::emit::field_ident(&format!("{name}_config"))
    } else {
        ident
    }
}

/// Builder setters for the configuration values (see [`config_setter`]).
fn config_setters(spec: &Spec, builder: &proc_macro2::Ident) -> TokenStream {
    let setters = spec.config.iter().map(|c| {
        let ident = config_setter(&c.name);
        let key = &c.name;
        let what = if c.server_variable {
            format!("The `{{{}}}` variable of the base URL ({})", c.name, spec.server_url.as_deref().unwrap_or_default())
        } else {
            format!("The `{}` configuration value, which fills the parameters the spec scopes to it when a call leaves them out", c.name)
        };
        let doc = docs::attrs(&format!(
            "{what}{}{}. Also read from `{}` by `from_env`.",
            if c.description.is_empty() { String::new() } else { format!(": {}", c.description.trim_end_matches('.')) },
            c.default.as_deref().map(|d| format!(" (default `{d}`)")).unwrap_or_default(),
            config_env(spec, &c.name)
        ));
        quote! {
            #doc
            pub fn #ident(self, value: impl ::std::convert::Into<::std::string::String>) -> Self {
                #builder(self.0.config(#key, value))
            }
        }
    });
    quote!(#(#setters)*)
}

/// `IncidentIoAuthConfig::new(api_key)`: how to build direct-mode credentials (the first
/// scheme's constructor with its required fields).
fn auth_example(spec: &Spec) -> String {
    match spec.auth.first() {
        None => format!("{}AuthConfig::..", spec.type_prefix),
        Some(s) => format!(
            "{}AuthConfig::{}({})",
            spec.type_prefix,
            if spec.auth.len() == 1 {
                "new".to_string()
            } else {
                field_ident(&scheme_constructor(&s.key)).to_string()
            },
            s.fields
                .iter()
                .filter(|f| f.required)
                .map(|f| field_ident(&f.name).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `the incident.io API key (INCIDENT_IO_API_KEY)`: what an auth error tells the user to check.
fn credentials_hint(spec: &Spec) -> String {
    let envs: Vec<&str> = spec
        .auth
        .iter()
        .flat_map(|s| {
            s.fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.env.as_str())
        })
        .collect();
    let what = match spec.auth.as_slice() {
        [one] => match one
            .fields
            .iter()
            .filter(|f| f.required)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [field] if !field.title.is_empty() => lower_words(&field.title),
            _ => "credentials".to_string(),
        },
        _ => "credentials".to_string(),
    };
    if envs.is_empty() {
        format!("the {} {what}", spec.display_name)
    } else {
        format!("the {} {what} ({})", spec.display_name, envs.join(", "))
    }
}

/// `API Key` → `API key`: words in capitals stay, others are lowered.
fn lower_words(title: &str) -> String {
    title
        .split(' ')
        .map(|w| {
            if w.len() > 1
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn auth_scheme_meta(s: &AuthScheme) -> TokenStream {
    let rt = rt();
    let key = &s.key;
    let kind = match &s.kind {
        AuthKind::Bearer => quote!(#rt::meta::AuthKind::Bearer),
        AuthKind::Basic => quote!(#rt::meta::AuthKind::Basic),
        AuthKind::ApiKeyHeader(n) => quote!(#rt::meta::AuthKind::ApiKeyHeader { name: #n }),
        AuthKind::ApiKeyQuery(n) => quote!(#rt::meta::AuthKind::ApiKeyQuery { name: #n }),
        AuthKind::OAuth2 => quote!(#rt::meta::AuthKind::OAuth2),
    };
    let title = &s.title;
    let description = &s.description;
    let fields = s.fields.iter().map(|f| {
        let (name, title, description, required, secret, env) = (
            &f.name,
            &f.title,
            &f.description,
            f.required,
            f.secret,
            &f.env,
        );
        quote! {
            #rt::meta::AuthFieldMeta {
                name: #name,
                title: #title,
                description: #description,
                required: #required,
                secret: #secret,
                env: #env,
            }
        }
    });
    let mapping = s.mapping.iter().map(|(slot, parts)| {
        let parts = parts.iter().map(|p| match p {
            TemplatePart::Literal(t) => quote!(#rt::meta::TemplatePart::Literal(#t)),
            TemplatePart::Field(f) => quote!(#rt::meta::TemplatePart::Field(#f)),
        });
        quote!((#slot, &[#(#parts),*]))
    });
    let headers = s.additional_headers.iter().map(|(n, t)| quote!((#n, #t)));
    let refresh = match &s.refresh {
        Some(r) => {
            let (url, style, format, header, prefix) =
                (&r.url, &r.auth_style, &r.body_format, &r.header, &r.prefix);
            let extract = &r.extract;
            let (grant, scopes) = (&r.grant_type, &r.scopes);
            quote! {
                ::std::option::Option::Some(#rt::meta::TokenRefreshMeta {
                    url: #url,
                    auth_style: #style,
                    body_format: #format,
                    header: #header,
                    prefix: #prefix,
                    extract: &[#(#extract),*],
                    grant_type: #grant,
                    scopes: #scopes,
                })
            }
        }
        None => quote!(::std::option::Option::None),
    };
    quote! {
        #rt::meta::AuthSchemeMeta {
            key: #key,
            kind: #kind,
            title: #title,
            description: #description,
            fields: &[#(#fields),*],
            mapping: &[#(#mapping),*],
            additional_headers: &[#(#headers),*],
            refresh: #refresh,
        }
    }
}

/// The name of a scheme's constructor when a spec has several: `bearerAuth` → `bearer`.
pub(crate) fn scheme_constructor(key: &str) -> String {
    // `OAuth` is one word (`tallyOAuth` → `tally_oauth`, not `tally_o_auth`).
    let snake = key.replace("OAuth", "Oauth").to_snake_case();
    let trimmed = snake
        .trim_end_matches("_auth")
        .trim_end_matches("_scheme")
        .to_string();
    if trimmed.is_empty() {
        snake
    } else {
        trimmed
    }
}

/// The `<Prefix>AuthConfig` type: one constructor per scheme (`new` when there is one),
/// taking the required fields; a setter per optional field.
fn auth_config(spec: &Spec) -> TokenStream {
    let rt = rt();
    let ty = format_ident!("{}AuthConfig", spec.type_prefix);
    let display = &spec.display_name;
    let single = spec.auth.len() == 1;
    let constructors = spec.auth.iter().enumerate().map(|(i, s)| {
        let method = if single {
            format_ident!("new")
        } else {
            field_ident(&scheme_constructor(&s.key))
        };
        let required: Vec<_> = s.fields.iter().filter(|f| f.required).collect();
        let args = required.iter().map(|f| {
            let a = field_ident(&f.name);
            quote!(#a: impl ::std::convert::Into<::std::string::String>)
        });
        let sets = required.iter().map(|f| {
            let a = field_ident(&f.name);
            let n = &f.name;
            quote!(.set(#n, #a))
        });
        let field_docs: Vec<String> = required
            .iter()
            .map(|f| {
                format!(
                    "- `{}`{}{}",
                    f.name,
                    if f.description.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", f.description)
                    },
                    format_args!(" (`from_env` reads `{}`)", f.env)
                )
            })
            .collect();
        let how = match &s.kind {
            AuthKind::Bearer => "sent as `Authorization: Bearer <token>`".to_string(),
            AuthKind::Basic => "sent as `Authorization: Basic ...`".to_string(),
            AuthKind::ApiKeyHeader(h) => format!("sent in the `{h}` header"),
            AuthKind::ApiKeyQuery(q) => format!("sent as the `{q}` query parameter"),
            AuthKind::OAuth2 => {
                "OAuth 2 (the access token is refreshed when the spec says how)".to_string()
            }
        };
        let doc = docs::attrs(&format!(
            "Direct mode with the `{}` scheme{}: {how}, straight to {display}.{}",
            s.key,
            if s.title.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.title)
            },
            if field_docs.is_empty() {
                String::new()
            } else {
                format!("\n\n{}", field_docs.join("\n"))
            }
        ));
        quote! {
            #doc
            pub fn #method(#(#args),*) -> Self {
                #ty { credentials: #rt::Credentials::new(&crate::ops::AUTH[#i]) #(#sets)* }
            }
        }
    });
    // Optional fields, across schemes (a setter applies to the chosen scheme's field).
    let mut seen: Vec<&str> = Vec::new();
    let mut setters = Vec::new();
    for s in &spec.auth {
        for f in s.fields.iter().filter(|f| !f.required) {
            if seen.contains(&f.name.as_str())
                || spec
                    .auth
                    .iter()
                    .any(|o| o.fields.iter().any(|g| g.name == f.name && g.required))
            {
                continue;
            }
            seen.push(&f.name);
            let m = field_ident(&f.name);
            let n = &f.name;
            let doc = docs::attrs(&format!(
                "Sets the optional `{}`{} (`from_env` reads `{}`).",
                f.name,
                if f.description.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.description)
                },
                f.env
            ));
            setters.push(quote! {
                #doc
                pub fn #m(mut self, value: impl ::std::convert::Into<::std::string::String>) -> Self {
                    self.credentials = self.credentials.set(#n, value);
                    self
                }
            });
        }
    }
    let doc = docs::attrs(&format!(
        "Direct mode: {display}'s own credentials, as the spec's auth {} describe{}. Secrets never appear in `Debug` output, errors or logs.",
        if single { "scheme" } else { "schemes" },
        if single { "s it" } else { " them; pick one with its constructor" }
    ));
    quote! {
        #doc
        #[derive(Clone)]
        pub struct #ty {
            credentials: #rt::Credentials,
        }

        impl #ty {
            #(#constructors)*
            #(#setters)*

            /// The credentials, as the runtime applies them.
            #[doc(hidden)]
            pub fn credentials(&self) -> &#rt::Credentials {
                &self.credentials
            }
        }

        impl ::std::fmt::Debug for #ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.credentials, f)
            }
        }
    }
}

/// The connector type, its builder, the `Auth` choice and hosted creation.
pub fn connector_items(spec: &Spec) -> TokenStream {
    let rt = rt();
    let prefix = &spec.type_prefix;
    let connector = format_ident!("{prefix}Connector");
    let builder = format_ident!("{prefix}ConnectorBuilder");
    let auth_ty = format_ident!("{prefix}AuthConfig");
    let variant = format_ident!("{prefix}");
    let display = &spec.display_name;
    let auth_config = auth_config(spec);
    let name = &spec.connector_name;
    let def_id = &spec.definition_id;
    let version = &spec.version;
    let base = spec.server_url.as_deref().unwrap_or_default();
    let env_prefix = &spec.env_prefix;
    let direct_envs: Vec<String> = spec
        .auth
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| f.required)
                .map(|f| format!("`{}`", f.env))
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    let from_env_doc = docs::attrs(&format!(
        "Builds a connector from environment variables.\n\nDirect mode when {} {} set (with optional `{env_prefix}_BASE_URL`); otherwise hosted mode from `AIRBYTE_CLIENT_ID` and `AIRBYTE_CLIENT_SECRET` (with optional `AIRBYTE_ORGANIZATION_ID`, `AIRBYTE_WORKSPACE_NAME` or its older name `AIRBYTE_CUSTOMER_NAME`, `AIRBYTE_CONNECTOR_ID`, `AIRBYTE_API_URL`). If neither set is complete, the error lists what is missing.",
        direct_envs.join(", or "),
        if direct_envs.len() == 1 && !direct_envs[0].contains(" and ") { "is" } else { "are" }
    ));
    let connector_doc = docs::attrs(&format!(
        "A connection to {display}, direct or through Airbyte. Cheap to clone (it is an `Arc`); clones share one connection pool. Entity handles (`{}`, ...) are generated from the spec.",
        spec.entities
            .iter()
            .take(2)
            .map(|e| format!("{}()", e.name))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let builder_doc = docs::attrs(&format!(
        "Builds a [`{prefix}Connector`]; every setting is checked in [`build`](Self::build) or where it is given, before any request."
    ));
    let base_url_doc = docs::attrs(&format!(
        "Overrides the {display} base URL (default `{base}`). It must be `https`, except for loopback hosts (`127.0.0.1`, `::1`, `localhost`), which may use `http` (the emulator, test servers)."
    ));
    let create_doc = docs::attrs(&format!(
        "Creates a hosted {display} connector in Airbyte holding `credentials`, and returns a connector bound to it. Await the returned builder; `.name(..)`, `.replication_config(..)` and `.source_template_id(..)` are optional. The Airbyte config must name a workspace."
    ));
    let auth_enum_doc = docs::attrs(&format!(
        "The credentials a connector is built with: direct ({display}'s own) or Airbyte-hosted."
    ));
    let variant_doc = docs::attrs(&format!("Direct mode with {display}'s credentials."));
    let search_module = search_module(spec);
    let sql_module = sql_module(spec);
    let token_url = if spec.auth.iter().any(|a| a.refresh.is_some()) {
        quote! {
            /// Sends OAuth 2 token refreshes to `url` instead of the spec's `refreshUrl` (a
            /// test server, a proxy). It must be `https`, or `http` to a loopback host.
            pub fn token_url(self, url: &str) -> ::std::result::Result<Self, Error> {
                self.0.token_url(url).map(#builder)
            }
        }
    } else {
        quote!()
    };
    let config_setters = config_setters(spec, &builder);
    let builder_auth_doc = docs::attrs(&format!(
        "The credentials: [`{prefix}AuthConfig`] for direct mode, [`AirbyteAuthConfig`] for hosted mode."
    ));
    let pending_doc = docs::attrs(&format!(
        "A pending hosted creation ([`{prefix}Connector::create`]); await it."
    ));
    let span = format!("{}.call", spec.connector_name.replace('-', "_"));
    let execute_doc = docs::attrs(&format!(
        "Runs `action` on `entity` with untyped `params`, the single tool an agent calls.\n\nReturns the reference SDK's envelopes: for `list`, `{{\"data\": [...], \"meta\": {{\"next_cursor\": ...}}}}` (pass `next_cursor` back as the cursor param for the next page; it is `null` on the last page); for `get`, the record itself. The records are the API's own JSON, as sent. An unknown entity, action or parameter, or a parameter of the wrong type or out of bounds, is rejected before any request with an [`Error::InvalidInput`] that lists what is valid.\n\nA result larger than [`DEFAULT_MAX_OUTPUT_CHARS`] (100,000) characters of JSON is refused with an [`Error::InvalidInput`] that says what to ask for instead (a smaller page size, `limit` or `fields`); it is never truncated. Use [`execute_with`](Self::execute_with) to change or lift the limit. Each call opens one `{span}` tracing span."
    ));
    quote! {
        /// `info.x-airbyte-connector-name`.
        pub const CONNECTOR_NAME: &str = #name;
        /// `info.x-airbyte-connector-definition-id`: the Airbyte connector definition.
        pub const DEFINITION_ID: &str = #def_id;
        /// `info.version` of the spec this crate was generated from.
        pub const SPEC_VERSION: &str = #version;
        /// The API's base URL (`servers[0].url`).
        pub const DEFAULT_BASE_URL: &str = #base;
        /// The connector spec this crate was generated from (base plus corrections), as JSON.
        pub static SPEC_JSON: &str = ::std::include_str!(::std::concat!(::std::env!("OUT_DIR"), "/spec.json"));
        /// `User-Agent` sent on every request.
        pub const USER_AGENT: &str = ::std::concat!(::std::env!("CARGO_PKG_NAME"), "/", ::std::env!("CARGO_PKG_VERSION"));

        pub use #rt::{
            AirbyteAuthConfig, ApiError, ApiErrorDetail, BoxFuture, CheckResult, CheckStatus, Error,
            Download, ExecuteOptions, Page, RawOutput, RawRecords, RetryPolicy, DEFAULT_MAX_OUTPUT_CHARS,
            DEFAULT_MAX_RESPONSE_BYTES,
        };
        pub use introspect::{ActionDescription, AiHints, EntityDescription, ParamDescription};

        #auth_config

        #auth_enum_doc
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum Auth {
            #variant_doc
            #variant(#auth_ty),
            /// Hosted mode through Airbyte.
            Airbyte(AirbyteAuthConfig),
        }

        impl ::std::convert::From<#auth_ty> for Auth {
            fn from(c: #auth_ty) -> Self {
                Auth::#variant(c)
            }
        }

        impl ::std::convert::From<AirbyteAuthConfig> for Auth {
            fn from(c: AirbyteAuthConfig) -> Self {
                Auth::Airbyte(c)
            }
        }

        impl Auth {
            fn into_choice(self) -> #rt::AuthChoice {
                match self {
                    Auth::#variant(c) => #rt::AuthChoice::Direct(c.credentials),
                    Auth::Airbyte(c) => #rt::AuthChoice::Hosted(c),
                }
            }
        }

        #connector_doc
        #[derive(Clone)]
        pub struct #connector {
            client: #rt::Client,
        }

        impl ::std::fmt::Debug for #connector {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(::std::stringify!(#connector))
                    .field("transport", &if self.client.is_hosted() { "hosted" } else { "direct" })
                    .field("base_url", &self.client.base_url())
                    .finish_non_exhaustive()
            }
        }

        impl #connector {
            /// Starts building a connector.
            pub fn builder() -> #builder {
                #builder::default()
            }

            /// The runtime client underneath.
            #[doc(hidden)]
            pub fn client(&self) -> &#rt::Client {
                &self.client
            }

            /// The base URL calls go to (direct mode), or the Airbyte API URL (hosted).
            pub fn base_url(&self) -> &str {
                self.client.base_url()
            }

            /// Whether calls go through Airbyte (hosted mode).
            pub fn is_hosted(&self) -> bool {
                self.client.is_hosted()
            }

            /// The hosted connector's id, once known (configured, looked up by the first call,
            /// or created); `None` in direct mode and before the lookup.
            pub fn connector_id(&self) -> ::std::option::Option<&str> {
                self.client.connector_id()
            }

            /// Hosted mode: resolves the connector id now (configured, or looked up once by
            /// workspace and definition id), so a missing or ambiguous connector is reported
            /// here rather than on the first call. Direct mode: an [`Error::HostedOnly`].
            pub async fn resolve_connector_id(&self) -> ::std::result::Result<::std::string::String, Error> {
                self.client.resolve_connector_id().await
            }

            #create_doc
            pub fn create(airbyte: AirbyteAuthConfig, credentials: #auth_ty) -> CreateConnector {
                CreateConnector(#rt::Client::create(&crate::ops::CONNECTOR, airbyte, credentials.credentials))
            }

            #from_env_doc
            pub fn from_env() -> ::std::result::Result<#connector, Error> {
                Self::from_env_with(|name| ::std::env::var(name).ok())
            }

            /// [`from_env`](Self::from_env) with a custom lookup (a config map, a test fixture).
            pub fn from_env_with(
                lookup: impl Fn(&str) -> ::std::option::Option<::std::string::String>,
            ) -> ::std::result::Result<#connector, Error> {
                #rt::Client::from_env_with(&crate::ops::CONNECTOR, lookup).map(|client| #connector { client })
            }

            /// Checks that the connector can read data: a one-record list of the spec's
            /// preferred check entity. Never fails; the outcome is in the result.
            pub async fn check(&self) -> CheckResult {
                self.client.check().await
            }

            #execute_doc
            pub async fn execute(
                &self,
                entity: &str,
                action: &str,
                params: #rt::__private::serde_json::Value,
            ) -> ::std::result::Result<#rt::__private::serde_json::Value, Error> {
                self.client.execute(entity, action, params).await
            }

            /// [`execute`](Self::execute) with options: [`ExecuteOptions::max_output_chars`]
            /// caps the size of the result (`None` or `Some(0)`: no cap).
            pub async fn execute_with(
                &self,
                entity: &str,
                action: &str,
                params: #rt::__private::serde_json::Value,
                options: ExecuteOptions,
            ) -> ::std::result::Result<#rt::__private::serde_json::Value, Error> {
                self.client.execute_with(entity, action, params, options).await
            }

            /// [`execute_with`](Self::execute_with), returning a [`RawOutput`] instead of a
            /// `serde_json::Value`: the server's body with the records located in it, never
            /// decoded (`records()`, `write_jsonl`, `as_str()` for the compact envelope). The
            /// fastest way to move records on (to a file, a socket, an agent).
            pub async fn execute_raw(
                &self,
                entity: &str,
                action: &str,
                params: #rt::__private::serde_json::Value,
                options: ExecuteOptions,
            ) -> ::std::result::Result<RawOutput, Error> {
                self.client.execute_raw(entity, action, params, options).await
            }

            /// Every entity with its actions (`search` included, marked hosted-only) and
            /// their params: type, whether required, bounds, defaults. See
            /// [`introspect::entities`].
            pub fn entities() -> ::std::vec::Vec<EntityDescription> {
                introspect::entities()
            }

            /// The JSON Schema of one record of `entity` (self-contained, draft 2020-12). An
            /// unknown entity is an [`Error::InvalidInput`] listing the valid ones. See
            /// [`introspect::entity_schema`].
            pub fn entity_schema(entity: &str) -> ::std::result::Result<#rt::__private::serde_json::Value, Error> {
                introspect::entity_schema(entity)
            }

            /// The docstring for an agent tool that calls [`execute`](Self::execute). See
            /// [`introspect::tool_description`].
            pub fn tool_description() -> ::std::string::String {
                introspect::tool_description()
            }

            /// The JSON Schema of that tool's `{entity, action, params}` input. See
            /// [`introspect::tool_input_schema`].
            pub fn tool_input_schema() -> #rt::__private::serde_json::Value {
                introspect::tool_input_schema()
            }

            /// The progressive tool set for agents: `execute` with a short description and a
            /// compact schema, `docs(section?)` and `inspect`, a fraction of the single tool's
            /// size. See [`progressive`].
            pub fn tools() -> ::std::vec::Vec<progressive::ToolDef> {
                #rt::progressive::tools(&crate::ops::CONNECTOR)
            }

            /// The single-tool form: `execute` with the full description and schema
            /// ([`tool_description`](Self::tool_description),
            /// [`tool_input_schema`](Self::tool_input_schema)).
            pub fn single_tool() -> progressive::ToolDef {
                #rt::progressive::single_tool(&crate::ops::CONNECTOR)
            }

            /// What the docs tool returns: the outline (`None`), or one section (an entity, or
            /// `paging`, `shaping`, `search`, `sql`, `errors`). An unknown section is an
            /// [`Error::InvalidInput`] listing the valid ones. No request is made.
            pub fn docs(section: ::std::option::Option<&str>) -> ::std::result::Result<::std::string::String, Error> {
                #rt::progressive::docs(&crate::ops::CONNECTOR, section)
            }

            /// The connector's metadata and readiness: Airbyte's view in hosted mode, local
            /// metadata in direct mode (no request).
            pub async fn inspect(&self) -> ::std::result::Result<#rt::__private::serde_json::Value, Error> {
                self.client.inspect().await
            }

            /// Airbyte's skill docs for this connector (hosted mode only): the outline, or one
            /// section.
            pub async fn skill_docs(&self, section: ::std::option::Option<&str>) -> ::std::result::Result<#rt::__private::serde_json::Value, Error> {
                self.client.skill_docs(section).await
            }
        }

        #builder_doc
        #[derive(Debug)]
        #[must_use]
        pub struct #builder(#rt::ClientBuilder);

        impl ::std::default::Default for #builder {
            fn default() -> Self {
                #builder(#rt::Client::builder(&crate::ops::CONNECTOR))
            }
        }

        impl #builder {
            #builder_auth_doc
            pub fn auth(self, auth: impl ::std::convert::Into<Auth>) -> Self {
                #builder(self.0.auth(auth.into().into_choice()))
            }

            #base_url_doc
            pub fn base_url(self, url: &str) -> ::std::result::Result<Self, Error> {
                self.0.base_url(url).map(#builder)
            }

            /// Time allowed to establish a connection (default 10 s).
            pub fn connect_timeout(self, timeout: ::std::time::Duration) -> Self {
                #builder(self.0.connect_timeout(timeout))
            }

            /// Time allowed for a whole request, body included (default 60 s). A stalled body
            /// ends in [`Error::Timeout`], never a hang.
            pub fn timeout(self, timeout: ::std::time::Duration) -> Self {
                #builder(self.0.timeout(timeout))
            }

            /// How failed requests are retried (default [`RetryPolicy::default`]: 4 attempts,
            /// jittered exponential backoff, `Retry-After` honoured). See [`crate::retry`].
            pub fn retry_policy(self, policy: RetryPolicy) -> Self {
                #builder(self.0.retry_policy(policy))
            }

            /// Tries every request once, with no retries.
            pub fn no_retries(self) -> Self {
                #builder(self.0.no_retries())
            }

            /// Keeps this connector (and all its clones) under `per_minute` requests per
            /// minute, by waiting before sending instead of collecting 429s. Off by default.
            /// Retries count against the limit too.
            pub fn rate_limit(self, per_minute: u32) -> Self {
                #builder(self.0.rate_limit(per_minute))
            }

            /// The largest response body accepted, in bytes (default
            /// [`DEFAULT_MAX_RESPONSE_BYTES`], 64 MiB). A larger body is refused with
            /// [`Error::ResponseTooLarge`] as soon as it is known to be larger, before it is
            /// read in full; nothing beyond the limit is kept in memory.
            pub fn max_response_bytes(self, bytes: usize) -> Self {
                #builder(self.0.max_response_bytes(bytes))
            }

            #token_url

            #config_setters

            /// Appends a product token to the `User-Agent` (default [`USER_AGENT`]).
            pub fn user_agent_suffix(self, suffix: &str) -> Self {
                #builder(self.0.user_agent_suffix(suffix))
            }

            /// Builds the connector (no request is made).
            pub fn build(self) -> ::std::result::Result<#connector, Error> {
                self.0.build().map(|client| #connector { client })
            }
        }

        #pending_doc
        #[derive(Debug)]
        #[must_use = "nothing is created until this is awaited"]
        pub struct CreateConnector(#rt::CreateConnector);

        impl CreateConnector {
            /// The connector's name in Airbyte (default `<connector> - <workspace>`).
            pub fn name(self, name: impl ::std::convert::Into<::std::string::String>) -> Self {
                CreateConnector(self.0.name(name))
            }

            /// Replication settings passed through to Airbyte as given.
            pub fn replication_config(self, config: #rt::__private::serde_json::Value) -> Self {
                CreateConnector(self.0.replication_config(config))
            }

            /// An Airbyte source template to create the connector from.
            pub fn source_template_id(self, id: impl ::std::convert::Into<::std::string::String>) -> Self {
                CreateConnector(self.0.source_template_id(id))
            }
        }

        impl ::std::future::IntoFuture for CreateConnector {
            type Output = ::std::result::Result<#connector, Error>;
            type IntoFuture = BoxFuture<Self::Output>;
            fn into_future(self) -> Self::IntoFuture {
                ::std::boxed::Box::pin(async move {
                    self.0.await.map(|client| #connector { client })
                })
            }
        }

        /// Static descriptions of the spec's entities and operations: what `execute`
        /// validates against, what introspection reports, and what the transports need to
        /// know about an operation (path, params, bounds, record field, cursor parameter).
        pub mod meta {
            pub use #rt::meta::*;

            /// This connector: name, definition id, base URL, auth schemes, entities.
            pub fn connector() -> &'static ConnectorMeta {
                &crate::ops::CONNECTOR
            }

            /// Every entity of the spec this crate was generated from.
            pub fn entities() -> &'static [EntityMeta] {
                crate::ops::ENTITIES
            }

            /// The entity called `name`.
            pub fn entity(name: &str) -> ::std::option::Option<&'static EntityMeta> {
                entities().iter().find(|e| e.name == name)
            }

            /// Every operation of the spec, entity by entity.
            pub fn operations() -> &'static [&'static OperationMeta] {
                crate::ops::OPERATIONS
            }
        }

        /// Self-description for agents and tools, generated from the same spec as the code:
        /// entities, actions and params ([`entities`](crate::introspect::entities)), each
        /// record's JSON Schema ([`entity_schema`](crate::introspect::entity_schema)), and an
        /// agent tool's description and input schema
        /// ([`tool_description`](crate::introspect::tool_description),
        /// [`tool_input_schema`](crate::introspect::tool_input_schema)).
        pub mod introspect {
            pub use #rt::introspect::{ActionDescription, AiHints, EntityDescription, ParamDescription, SEARCH, SEARCH_OPERATORS};

            /// Every entity of the spec, with its actions and their parameters.
            pub fn entities() -> ::std::vec::Vec<EntityDescription> {
                #rt::introspect::entities(&crate::ops::CONNECTOR)
            }

            /// The JSON Schema (draft 2020-12) of one record of `entity`, as `execute` returns
            /// it. An unknown entity is an [`Error`](crate::Error) listing the valid ones.
            pub fn entity_schema(entity: &str) -> ::std::result::Result<#rt::__private::serde_json::Value, crate::Error> {
                #rt::introspect::entity_schema(&crate::ops::CONNECTOR, entity)
            }

            /// The docstring for an agent tool that takes `{entity, action, params}` and runs
            /// `execute`.
            pub fn tool_description() -> ::std::string::String {
                #rt::introspect::tool_description(&crate::ops::CONNECTOR)
            }

            /// The JSON Schema of the tool input `{entity, action, params}`.
            pub fn tool_input_schema() -> #rt::__private::serde_json::Value {
                #rt::introspect::tool_input_schema(&crate::ops::CONNECTOR)
            }
        }

        pub use #rt::retry;

        /// Progressive docs for agents: three small tools (execute, docs, inspect) instead of
        /// one large one; see the runtime's module docs.
        pub mod progressive {
            #[doc(inline)]
            pub use #rt::progressive::{DocSection, ToolDef};

            /// The docs' sections, topics first, then one per entity.
            pub fn outline() -> ::std::vec::Vec<DocSection> {
                #rt::progressive::outline(&crate::ops::CONNECTOR)
            }
        }

        #search_module

        #sql_module

        #[doc(hidden)]
        pub use #rt::fuzzing;
        #[doc(hidden)]
        pub use #rt::open_enum;
    }
}

/// The `sql` module: context-store SQL (hosted only), with an example on the first entity.
fn sql_module(spec: &Spec) -> TokenStream {
    let rt = rt();
    let krate = format!("{}_connector", spec.connector_name.replace('-', "_"));
    let prefix = &spec.type_prefix;
    let mut text = String::from(
        "Context-store SQL (hosted mode only): every entity's `sql(..)` runs a SQL query over Airbyte's copy of its records (the `context_store_sql_query` action); in direct mode it fails with `Error::HostedOnly` before any request. Rows come back as JSON objects keyed by column.",
    );
    if let Some(e) = spec.entities.first() {
        text.push_str(&format!(
            "\n\n```no_run\n# async fn run(connector: {krate}::{prefix}Connector) -> Result<(), {krate}::Error> {{\nlet rows = connector\n    .{e}()\n    .sql(\"SELECT id FROM {e} LIMIT 10\")\n    .await?;\nfor row in rows.data {{\n    println!(\"{{}}\", row[\"id\"]);\n}}\n# Ok(())\n# }}\n```",
            e = e.name
        ));
    }
    let doc = docs::attrs(&text);
    quote! {
        #doc
        pub mod sql {
            #[doc(inline)]
            pub use #rt::sql::*;
            #[doc(inline)]
            pub use #rt::requests::SqlQuery;
        }
    }
}

/// The `search` module: the runtime's search types, with an example on this connector's first
/// searchable entity (and a `compile_fail` one showing that another entity's field does not
/// compile).
fn search_module(spec: &Spec) -> TokenStream {
    use heck::ToUpperCamelCase;
    let rt = rt();
    let krate = format!("{}_connector", spec.connector_name.replace('-', "_"));
    let prefix = &spec.type_prefix;
    let searchable: Vec<_> = spec
        .entities
        .iter()
        .filter(|e| !e.search_fields.is_empty())
        .collect();
    let mut text = String::from(
        "Context-store search (hosted mode only): Airbyte keeps a searchable copy of each entity's records, declared per entity in the spec's `x-airbyte-context-store`. The typed builder takes the entity's generated field enum, so a field the entity cannot search does not compile; `execute(entity, \"search\", params)` checks field names at run time.",
    );
    if let Some(e) = searchable.first() {
        let camel = e.name.to_upper_camel_case();
        let var = |f: &crate::model::SearchField| {
            crate::emit::variant_names(&[f.name.replace('.', "_")])[0].to_string()
        };
        let first = var(&e.search_fields[0]);
        let sort = e
            .search_fields
            .iter()
            .find(|f| f.name.ends_with("created_at") || f.name == "id")
            .map(var)
            .unwrap_or_else(|| first.clone());
        text.push_str(&format!(
            "\n\n```no_run\nuse {krate}::entities::{camel}SearchField as F;\nuse {krate}::search::{{Condition, SearchQuery, SortOrder}};\n# async fn run(connector: {krate}::{prefix}Connector) -> Result<(), {krate}::Error> {{\nlet query = SearchQuery::new()\n    .filter(Condition::eq(F::{first}, \"value\"))\n    .sort(F::{sort}, SortOrder::Desc)\n    .limit(20);\nlet page = connector.{}().search(query).await?;\nprintln!(\"{{}} hits\", page.data.len());\n# Ok(())\n# }}\n```",
            e.name
        ));
        if let Some(other) = searchable.get(1) {
            let other_camel = other.name.to_upper_camel_case();
            let other_first = var(&other.search_fields[0]);
            text.push_str(&format!(
                "\n\nA field of another entity does not compile:\n\n```compile_fail\nuse {krate}::entities::{other_camel}SearchField;\nuse {krate}::search::{{Condition, SearchQuery}};\n# fn run(connector: {krate}::{prefix}Connector) {{\nlet query = SearchQuery::new().filter(Condition::eq({other_camel}SearchField::{other_first}, \"x\"));\nlet _ = connector.{}().search(query);\n# }}\n```",
                e.name
            ));
        }
    }
    let doc = docs::attrs(&text);
    quote! {
        #doc
        pub mod search {
            #[doc(inline)]
            pub use #rt::search::*;
            #[doc(inline)]
            pub use #rt::requests::Search;
        }
    }
}
