//! `method_registry!`: declares the methods' modules, the `#[serde(tag = "kind")]` enum of
//! their configs (`MethodBlock`), the `MethodCatalog` that `core::config` validates the
//! `method` block with, and `build`. Its one invocation (`methods/mod.rs`) is the only list of
//! methods.

#[macro_export]
macro_rules! method_registry {
    ( $( $(#[$doc:meta])* $kind:literal => $variant:ident($module:ident), )+ ) => {
        $( $(#[$doc])* pub mod $module; )+

        $crate::tagged_registry! {
            /// Every method's config block (`method.kind`).
            pub enum MethodBlock {
                $( $kind => $variant($module::Config), )+
            }
        }

        /// The registered methods, for `core::config::validate_with`.
        pub struct Registry;

        impl $crate::core::config::MethodCatalog for Registry {
            fn kinds(&self) -> &'static [&'static str] {
                MethodBlock::KINDS
            }

            fn check(
                &self,
                block: serde_yaml_ng::Value,
                cx: &mut $crate::core::config::MethodCheck,
            ) -> Option<($crate::core::config::spec::MethodSpec, serde_yaml_ng::Value)> {
                use $crate::inference::MethodConfig as _;
                let parsed = match MethodBlock::from_block(block, &cx.issues.path("")) {
                    Ok(parsed) => parsed,
                    Err(issue) => {
                        cx.issues.push(issue);
                        return None;
                    }
                };
                let spec: $crate::core::config::spec::MethodSpec = match &parsed {
                    $( MethodBlock::$variant(config) => std::sync::Arc::new(config.check(cx)?), )+
                };
                let resolved = serde_yaml_ng::to_value(&parsed).expect("a method config serialises");
                Some((spec, resolved))
            }
        }

        /// The method of a checked spec, for a target of dimension `dim`.
        pub fn build(
            spec: &$crate::core::config::spec::MethodSpec,
            dim: usize,
        ) -> Box<dyn $crate::inference::Method> {
            use $crate::inference::MethodConfig;
            let any = spec.as_any();
            $(
                if let Some(s) = any.downcast_ref::<<$module::Config as MethodConfig>::Spec>() {
                    return <$module::Config as MethodConfig>::build(s, dim);
                }
            )+
            unreachable!("the spec of a registered method")
        }
    };
}
