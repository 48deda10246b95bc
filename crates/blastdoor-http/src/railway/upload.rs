//! The Railway CLI's other endpoint: `railway up` uploads a gzipped tarball of the project to
//! `POST /project/<projectId>/environment/<environmentId>/up?serviceId=<id>[&message=…]` and
//! Railway builds and deploys it to that service in that environment.
//!
//! It is classified by method and path like a mutation: a `Write` (`railway.up`) on the
//! project, environment and service it names, so that [`crate::railway::topology`] resolves
//! and verifies them as it does for GraphQL (the environment must belong to the project, the
//! service must have an instance there). Deploying a service's code is a write, like
//! `serviceInstanceDeploy`; changing what runs (commands, build configuration) is `Execute` and
//! goes through GraphQL. The tarball itself is not read.

use blastdoor_core::Risk;

use crate::railway::ClassifiedField;
use crate::railway::document::shorten;
use crate::{HttpError, Method};

/// The path of an upload, if `path` is one: `(project id, environment id)`.
pub fn upload_path(path: &str) -> Option<(&str, &str)> {
    let mut segments = path.strip_prefix('/')?.split('/');
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (
            Some("project"),
            Some(project),
            Some("environment"),
            Some(environment),
            Some("up"),
            None,
        ) if is_id(project) && is_id(environment) => Some((project, environment)),
        _ => None,
    }
}

/// Classifies an upload to `path` (already known to be one) with its query string.
pub fn classify_upload(
    method: &Method,
    path: &str,
    query_string: Option<&str>,
) -> Result<ClassifiedField, HttpError> {
    let (project, environment) = upload_path(path)
        .ok_or_else(|| HttpError::UnsupportedMethod(format!("{method} {}", shorten(path))))?;
    if *method != Method::Post {
        return Err(HttpError::UnsupportedMethod(format!(
            "{method} on `railway up`'s upload endpoint"
        )));
    }
    let mut service = None;
    for pair in query_string
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "serviceId" if service.is_some() => {
                return Err(HttpError::InvalidQueryString(
                    "parameter `serviceId` is given twice".into(),
                ));
            }
            "serviceId" if value.is_empty() => service = Some(None),
            "serviceId" if is_id(value) => service = Some(Some(value)),
            "serviceId" => {
                return Err(HttpError::InvalidQueryString(
                    "`serviceId` is not an id".into(),
                ));
            }
            // The deployment's message: free text, does not change what runs.
            "message" => {}
            other => {
                return Err(HttpError::InvalidQueryString(format!(
                    "unexpected parameter `{}` on the upload endpoint",
                    shorten(other)
                )));
            }
        }
    }
    let mut ids = vec![
        ("environmentId".to_owned(), environment.to_owned()),
        ("projectId".to_owned(), project.to_owned()),
    ];
    if let Some(Some(service)) = service {
        ids.push(("serviceId".to_owned(), service.to_owned()));
    }
    ids.sort();
    Ok(ClassifiedField {
        operation_type: "upload",
        field: "up".to_owned(),
        alias: None,
        risk: Risk::Write,
        rule_id: crate::rule_id("railway.up"),
        explanation: "`railway up` uploads code that Railway builds and deploys to the service \
                      in this environment"
            .to_owned(),
        ids,
        returns: None,
        all_environments: false,
        nested: Vec::new(),
        walked: Vec::new(),
        batch_index: 0,
    })
}

/// Railway ids are UUIDs; accept letters, digits and `-`/`_` up to 64 characters, so that a
/// path segment can never smuggle a separator, a dot segment or an escape.
fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_paths_and_their_ids() {
        assert_eq!(
            upload_path("/project/p-1/environment/e-1/up"),
            Some(("p-1", "e-1"))
        );
        for other in [
            "/project/p-1/environment/e-1/up/",
            "/project/p-1/environment/e-1",
            "/project/p.1/environment/e-1/up",
            "/project//environment/e-1/up",
            "/graphql/v2",
        ] {
            assert_eq!(upload_path(other), None, "{other}");
        }
    }

    #[test]
    fn an_upload_is_a_write_on_its_project_environment_and_service() {
        let field = classify_upload(
            &Method::Post,
            "/project/p/environment/e/up",
            Some("serviceId=s&message=fix"),
        )
        .unwrap();
        assert_eq!(field.risk, Risk::Write);
        assert_eq!(
            field.ids,
            [
                ("environmentId".to_owned(), "e".to_owned()),
                ("projectId".to_owned(), "p".to_owned()),
                ("serviceId".to_owned(), "s".to_owned()),
            ]
        );
        assert!(classify_upload(&Method::Put, "/project/p/environment/e/up", None).is_err());
        for query in [
            "serviceId=s&serviceId=t",
            "serviceId=a/b",
            "environmentId=x",
        ] {
            assert!(
                classify_upload(&Method::Post, "/project/p/environment/e/up", Some(query)).is_err(),
                "{query}"
            );
        }
    }
}
