//! Small browser helpers (wasm only): awaiting a promise, plain `fetch` calls, downloads and files.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

type Settled = Option<Result<JsValue, JsValue>>;
type Shared = Rc<RefCell<(Settled, Option<Waker>)>>;
type Callback = Closure<dyn FnMut(JsValue)>;

/// A promise as a future. The callbacks live as long as the future.
pub struct Promised {
    state: Shared,
    _callbacks: (Callback, Callback),
}

impl Promised {
    pub fn new(promise: &js_sys::Promise) -> Self {
        let state: Shared = Rc::new(RefCell::new((None, None)));
        let settle = |ok: bool| {
            let state = state.clone();
            Callback::new(move |value: JsValue| {
                let mut s = state.borrow_mut();
                s.0 = Some(if ok { Ok(value) } else { Err(value) });
                if let Some(waker) = s.1.take() {
                    waker.wake();
                }
            })
        };
        let (resolve, reject) = (settle(true), settle(false));
        let _ = promise.then2(&resolve, &reject);
        Self { state, _callbacks: (resolve, reject) }
    }
}

impl Future for Promised {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.state.borrow_mut();
        match s.0.take() {
            Some(result) => Poll::Ready(result),
            None => {
                s.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A message for a failed browser call.
pub fn js_error(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "the request failed".to_owned())
}

/// `fetch(url, {method, body})`, answering the status and the body as text. A string body is
/// sent as JSON.
pub async fn fetch_text(method: &str, url: &str, body: Option<&JsValue>) -> Result<(u16, String), String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(body);
    }
    if body.is_some_and(|b| b.is_string()) {
        let headers = web_sys::Headers::new().map_err(|e| js_error(&e))?;
        let _ = headers.set("Content-Type", "application/json");
        let _ = headers.set("Accept", "application/json");
        init.set_headers(&headers);
    }
    let promise = web_sys::window().ok_or("no window")?.fetch_with_str_and_init(url, &init);
    let response: web_sys::Response = Promised::new(&promise).await.map_err(|e| js_error(&e))?.unchecked_into();
    let status = response.status();
    let text = response.text().map_err(|e| js_error(&e))?;
    let text = Promised::new(&text).await.map_err(|e| js_error(&e))?;
    Ok((status, text.as_string().unwrap_or_default()))
}

/// The WebSocket address for a path of this site (`ws:` or `wss:` like the page).
pub fn websocket_url(path: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}{path}", location.host().ok()?))
}

/// Starts a download by clicking a hidden link to `url`.
pub fn download(url: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(anchor) = document.create_element("a") else { return };
    let anchor: web_sys::HtmlAnchorElement = anchor.unchecked_into();
    anchor.set_href(url);
    anchor.set_download("");
    let _ = anchor.set_attribute("hidden", "");
    if let Some(body) = document.body() {
        let _ = body.append_child(&anchor);
        anchor.click();
        let _ = body.remove_child(&anchor);
    }
}

/// The seconds since 1970 by the browser's clock.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// The first file of a `FileList` (an `<input type="file">`'s `files` or a drop's
/// `dataTransfer.files`), with its name. A `File` is a `Blob`.
pub fn first_file(list: &JsValue) -> Option<(web_sys::Blob, String)> {
    let file = js_sys::Reflect::get(list, &JsValue::from(0)).ok().filter(|f| !f.is_undefined() && !f.is_null())?;
    let name =
        js_sys::Reflect::get(&file, &JsValue::from_str("name")).ok().and_then(|n| n.as_string()).unwrap_or_default();
    Some((file.unchecked_into(), name))
}

/// A blob of `text` (UTF-8): pasted text uploaded as a file would be.
pub fn text_blob(text: &str) -> Option<web_sys::Blob> {
    web_sys::Blob::new_with_str_sequence(&js_sys::Array::of1(&JsValue::from_str(text))).ok()
}

/// A property of a JavaScript object, when it is an object.
pub fn property(target: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// Reads up to `limit` bytes of a blob as UTF-8 text.
pub async fn read_text(blob: &web_sys::Blob, limit: f64) -> Result<String, String> {
    let part = if blob.size() > limit {
        blob.slice_with_f64_and_f64(0.0, limit).map_err(|e| js_error(&e))?
    } else {
        blob.clone()
    };
    let text = Promised::new(&part.text()).await.map_err(|e| js_error(&e))?;
    Ok(text.as_string().unwrap_or_default())
}
