//! Multi-document YAML manifests (the release's `samples/...` files and our fixtures) read into
//! Kubernetes objects.

use kube::api::DynamicObject;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{origin}: document {index}: {source}")]
    Yaml {
        origin: String,
        index: usize,
        #[source]
        source: serde_norway::Error,
    },
    #[error("{origin}: document {index} has no apiVersion/kind")]
    NotAnObject { origin: String, index: usize },
}

/// Parses every non-empty document of `text` into a [`DynamicObject`]. `origin` names the file or
/// URL in errors.
pub fn parse(origin: &str, text: &str) -> Result<Vec<DynamicObject>, ManifestError> {
    let mut out = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value =
            serde_json::Value::deserialize(document).map_err(|source| ManifestError::Yaml {
                origin: origin.to_string(),
                index,
                source,
            })?;
        if value.is_null() {
            continue; // an empty document between `---` lines
        }
        let object: DynamicObject = serde_json::from_value(value)
            .ok()
            .filter(|o: &DynamicObject| o.types.is_some())
            .ok_or_else(|| ManifestError::NotAnObject {
                origin: origin.to_string(),
                index,
            })?;
        out.push(object);
    }
    Ok(out)
}

/// Converts a parsed object into a typed k8s-openapi resource (checking apiVersion and kind).
pub fn typed<K>(object: &DynamicObject) -> Option<K>
where
    K: k8s_openapi::Resource + serde::de::DeserializeOwned,
{
    let types = object.types.as_ref()?;
    if types.api_version != K::API_VERSION || types.kind != K::KIND {
        return None;
    }
    serde_json::to_value(object)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_documents_are_skipped_and_errors_name_the_origin() {
        let objs = parse(
            "x.yaml",
            "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n",
        )
        .unwrap();
        assert_eq!(objs.len(), 1);
        let err = parse("x.yaml", "apiVersion: v1\nkind: [").unwrap_err();
        assert!(err.to_string().starts_with("x.yaml: document 0"), "{err}");
        let err = parse("y.yaml", "just: a map\n").unwrap_err();
        assert!(matches!(err, ManifestError::NotAnObject { .. }), "{err}");
    }
}
