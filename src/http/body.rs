//! Request bodies, refused early. Only `POST` carries a body here (`GET` and `DELETE` take
//! their parameters in the query string), and a `POST` body is read up to the function's
//! limit. Both are decided from `Content-Length` before a byte of the body is read, and,
//! for a body without one (chunked), while it streams: a caller cannot make the handler
//! buffer, or wait for, what it will refuse anyway. (hyper sends `100 Continue` only when a
//! body is read, so a client that asks for it never sends a refused body at all.)

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, header};
use futures_util::StreamExt;

use super::problem::{Problem, ProblemType};

/// The most memory reserved up front from a `Content-Length` that has not arrived yet.
const RESERVED_UP_FRONT: usize = 1024 * 1024;

/// The body of a `method` request to `function`, at most `limit` bytes: a body on a method
/// that takes none is a 400, one above `limit` a 413, each before or while it is read.
pub async fn read(
    function: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, Problem> {
    let takes_body = *method == Method::POST;
    let limit = if takes_body { limit } else { 0 };
    let refused = |size: Option<u64>| {
        if takes_body { too_large(function, limit, size) } else { unexpected(method, size) }
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared
        && n > limit as u64
    {
        return Err(refused(Some(n)));
    }
    let reserve = declared.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)).min(RESERVED_UP_FRONT);
    let mut stream = body.into_data_stream();
    let mut out: Vec<u8> = Vec::new();
    let mut first: Option<Bytes> = None;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Problem::bad_parameter(format!("the request body could not be read to its end: {e}")))?;
        if chunk.is_empty() {
            continue;
        }
        let so_far = first.as_ref().map_or(out.len(), Bytes::len);
        if so_far + chunk.len() > limit {
            return Err(refused(None));
        }
        // One chunk (the usual case) is kept as it came, without a copy.
        match first.take() {
            None if out.is_empty() => first = Some(chunk),
            None => out.extend_from_slice(&chunk),
            Some(one) => {
                out.reserve(reserve.max(one.len() + chunk.len()));
                out.extend_from_slice(&one);
                out.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(out)))
}

fn too_large(function: &str, limit: usize, size: Option<u64>) -> Problem {
    let size = size.map(|n| format!("; this one is {n} bytes")).unwrap_or_default();
    Problem::new(ProblemType::BodyTooLarge, format!("{function} reads a request body of at most {limit} bytes{size}"))
}

fn unexpected(method: &Method, size: Option<u64>) -> Problem {
    let size = size.map(|n| format!(" of {n} bytes")).unwrap_or_default();
    Problem::bad_parameter(format!(
        "{method} takes no body: its parameters go in the query string (send a body with POST); this request has \
         one{size}"
    ))
}

/// `stream`, ended with an error (the connection is cut, so the caller cannot take a
/// short file for the whole one) when a piece has not come by `deadline`.
pub fn cut_at<S>(
    deadline: tokio::time::Instant,
    stream: S,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static
where
    S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    futures_util::stream::unfold((Box::pin(stream), false), move |(mut stream, ended)| async move {
        if ended {
            return None;
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(item)) => Some((item, (stream, false))),
            Ok(None) => None,
            Err(_) => {
                tracing::warn!("an answer's body was still being sent at the answer deadline; cutting it off");
                Some((Err(std::io::Error::other("the answer deadline passed")), (stream, true)))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn length(n: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, n.into());
        h
    }

    /// A body that fails the test if it is read at all.
    fn unreadable() -> Body {
        Body::from_stream(futures_util::stream::once(async {
            panic!("the body was read");
            #[allow(unreachable_code)]
            Ok::<Bytes, std::io::Error>(Bytes::new())
        }))
    }

    /// An endless chunked body of 64 KiB chunks, counting the chunks read.
    fn endless(read: Arc<AtomicUsize>) -> Body {
        Body::from_stream(futures_util::stream::repeat_with(move || {
            read.fetch_add(1, Ordering::SeqCst);
            Ok::<Bytes, std::io::Error>(Bytes::from(vec![b'x'; 64 * 1024]))
        }))
    }

    #[tokio::test]
    async fn a_declared_length_above_the_limit_is_refused_unread() {
        let p = read("write-cells", &Method::POST, &length(200_000_000), unreadable(), 1000).await.unwrap_err();
        assert_eq!(p.status(), 413);
        let detail = p.body()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("at most 1000 bytes") && detail.contains("200000000"), "{detail}");
    }

    #[tokio::test]
    async fn a_body_on_get_or_delete_is_refused_unread() {
        for method in [Method::GET, Method::DELETE] {
            let p = read("list-items", &method, &length(2), unreadable(), 1000).await.unwrap_err();
            assert_eq!(p.status(), 400);
            assert!(p.body()["detail"].as_str().unwrap().contains(&format!("{method} takes no body")));
        }
        let none = read("list-items", &Method::GET, &length(0), Body::empty(), 1000).await.unwrap();
        assert!(none.is_empty());
        let none = read("list-items", &Method::GET, &HeaderMap::new(), Body::empty(), 1000).await.unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() {
        let count = Arc::new(AtomicUsize::new(0));
        let p = read("run-process", &Method::POST, &HeaderMap::new(), endless(count.clone()), 1024 * 1024)
            .await
            .unwrap_err();
        assert_eq!(p.status(), 413);
        assert_eq!(count.load(Ordering::SeqCst), 17, "16 chunks fit in 1 MiB, the 17th is refused");
        let count = Arc::new(AtomicUsize::new(0));
        let p = read("list-items", &Method::GET, &HeaderMap::new(), endless(count.clone()), 1024).await.unwrap_err();
        assert_eq!(p.status(), 400);
        assert_eq!(count.load(Ordering::SeqCst), 1, "a GET is refused at its first byte");
    }

    #[tokio::test]
    async fn bodies_within_the_limit_arrive_whole() {
        let chunks = ["{\"a\":", " 1", "}"].map(|c| Ok::<Bytes, std::io::Error>(Bytes::from_static(c.as_bytes())));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        let got = read("run-process", &Method::POST, &HeaderMap::new(), body, 8).await.unwrap();
        assert_eq!(&got[..], b"{\"a\": 1}");
        let got = read("run-process", &Method::POST, &length(8), Body::from("{\"a\": 1}"), 8).await.unwrap();
        assert_eq!(&got[..], b"{\"a\": 1}");
        let empty_chunks = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(Bytes::new())]);
        assert!(
            read("get-view-data", &Method::GET, &HeaderMap::new(), Body::from_stream(empty_chunks), 8).await.is_ok()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_still_coming_at_the_deadline_is_cut_off_not_ended() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        // One piece at once, then one every 4 s: the third would come after the deadline.
        let slow = futures_util::stream::unfold(0u32, |n| async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(4)).await;
            }
            (n < 5).then(|| (Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 3])), n + 1))
        });
        let got: Vec<Result<Bytes, std::io::Error>> = cut_at(deadline, slow).collect().await;
        assert_eq!(got.len(), 4, "three pieces, then the error that cuts the body");
        assert!(got[..3].iter().all(Result::is_ok));
        assert!(got[3].is_err());
        // A body that ends in time is untouched.
        let quick = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"ab"))]);
        let got: Vec<_> = cut_at(tokio::time::Instant::now() + Duration::from_secs(1), quick).collect().await;
        assert_eq!(got.len(), 1);
    }
}
