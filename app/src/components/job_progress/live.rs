//! The browser's side of following a job: its WebSocket, and polling while that cannot open.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::leptos_dom::helpers::{IntervalHandle, TimeoutHandle, set_interval_with_handle, set_timeout_with_handle};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{Channel, is_final};
use crate::dto::JobDto;

type Handler = Closure<dyn FnMut(web_sys::Event)>;

struct Inner {
    id: String,
    job: RwSignal<Option<JobDto>>,
    channel: RwSignal<Channel>,
    /// Finished, or the page went away.
    stopped: bool,
    /// Reconnections tried since the socket last opened.
    attempts: u32,
    socket: Option<web_sys::WebSocket>,
    handlers: Vec<Handler>,
    poll: Option<IntervalHandle>,
    retry: Option<TimeoutHandle>,
    ping: Option<IntervalHandle>,
}

/// A job's subscription; dropping it stops everything.
pub struct Watch(Rc<RefCell<Inner>>);

impl Drop for Watch {
    fn drop(&mut self) {
        stop(&self.0);
    }
}

impl Watch {
    pub fn start(id: String, job: RwSignal<Option<JobDto>>, channel: RwSignal<Channel>) -> Self {
        let inner = Rc::new(RefCell::new(Inner {
            id,
            job,
            channel,
            stopped: false,
            attempts: 0,
            socket: None,
            handlers: Vec::new(),
            poll: None,
            retry: None,
            ping: None,
        }));
        connect(&inner);
        Self(inner)
    }
}

fn stop(inner: &Rc<RefCell<Inner>>) {
    let mut s = inner.borrow_mut();
    s.stopped = true;
    if let Some(socket) = s.socket.take() {
        socket.set_onopen(None);
        socket.set_onmessage(None);
        socket.set_onclose(None);
        socket.set_onerror(None);
        let _ = socket.close();
    }
    if let Some(h) = s.poll.take() {
        h.clear();
    }
    if let Some(h) = s.ping.take() {
        h.clear();
    }
    if let Some(h) = s.retry.take() {
        h.clear();
    }
    // Breaks the cycle between the state and the handlers that hold it; later, since one of
    // them may be the caller.
    let handlers = std::mem::take(&mut s.handlers);
    leptos::prelude::set_timeout(move || drop(handlers), Duration::ZERO);
}

/// Shows a new state of the job; a final one ends the subscription.
fn apply(inner: &Rc<RefCell<Inner>>, job: JobDto) {
    let (signal, done) = {
        let s = inner.borrow();
        if s.stopped {
            return;
        }
        (s.job, is_final(&job.status))
    };
    signal.try_set(Some(job));
    if done {
        stop(inner);
    }
}

fn connect(inner: &Rc<RefCell<Inner>>) {
    if inner.borrow().stopped {
        return;
    }
    let id = inner.borrow().id.clone();
    let socket = crate::browser::websocket_url(&format!("/api/jobs/{}/ws", crate::pages::encode_query(&id)))
        .and_then(|url| web_sys::WebSocket::new(&url).ok());
    let Some(socket) = socket else {
        lost(inner);
        return;
    };
    let on_open: Handler = {
        let inner = inner.clone();
        Closure::new(move |_: web_sys::Event| {
            let mut s = inner.borrow_mut();
            s.attempts = 0;
            s.channel.try_set(Channel::Live);
            if let Some(h) = s.poll.take() {
                h.clear();
            }
            let socket = s.socket.clone();
            s.ping = set_interval_with_handle(
                move || {
                    if let Some(socket) = &socket {
                        let _ = socket.send_with_str(r#"{"type":"ping"}"#);
                    }
                },
                Duration::from_secs(20),
            )
            .ok();
        })
    };
    let on_message: Handler = {
        let inner = inner.clone();
        Closure::new(move |ev: web_sys::Event| {
            let Some(text) = ev.dyn_ref::<web_sys::MessageEvent>().and_then(|m| m.data().as_string()) else {
                return;
            };
            #[derive(serde::Deserialize)]
            struct Frame {
                job: Option<JobDto>,
            }
            if let Ok(Frame { job: Some(job) }) = serde_json::from_str::<Frame>(&text) {
                apply(&inner, job);
            }
        })
    };
    let on_close: Handler = {
        let inner = inner.clone();
        Closure::new(move |_: web_sys::Event| {
            {
                let mut s = inner.borrow_mut();
                if s.stopped {
                    return;
                }
                s.socket = None;
                if let Some(h) = s.ping.take() {
                    h.clear();
                }
            }
            lost(&inner);
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut s = inner.borrow_mut();
    s.handlers.extend([on_open, on_message, on_close]);
    s.socket = Some(socket);
}

/// The socket could not be opened or dropped before the end: poll every second meanwhile,
/// and try the socket again after 0.5, 1, 2, 4… (at most 30) seconds.
fn lost(inner: &Rc<RefCell<Inner>>) {
    let delay = {
        let mut s = inner.borrow_mut();
        if s.stopped {
            return;
        }
        s.attempts += 1;
        500u64.saturating_mul(1 << (s.attempts - 1).min(6)).min(30_000)
    };
    start_polling(inner);
    let again = inner.clone();
    let retry = set_timeout_with_handle(
        move || {
            if !again.borrow().stopped {
                again.borrow_mut().retry = None;
                connect(&again);
            }
        },
        Duration::from_millis(delay),
    )
    .ok();
    inner.borrow_mut().retry = retry;
}

fn start_polling(inner: &Rc<RefCell<Inner>>) {
    {
        let s = inner.borrow();
        if s.poll.is_some() {
            return;
        }
        s.channel.try_set(Channel::Polling);
    }
    poll_once(inner.clone());
    let polling = inner.clone();
    let poll = set_interval_with_handle(move || poll_once(polling.clone()), Duration::from_secs(1)).ok();
    inner.borrow_mut().poll = poll;
}

fn poll_once(inner: Rc<RefCell<Inner>>) {
    let url = format!("/api/jobs/{}", crate::pages::encode_query(&inner.borrow().id));
    leptos::task::spawn_local(async move {
        if let Ok((200, text)) = crate::browser::fetch_text("GET", &url, None).await
            && let Ok(job) = serde_json::from_str::<JobDto>(&text)
        {
            apply(&inner, job);
        }
    });
}
