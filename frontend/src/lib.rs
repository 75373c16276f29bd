#![recursion_limit = "512"]

//! The WebAssembly entry point: hydrates the server-rendered console.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are code-split (lazy routes), so hydration is asynchronous: it waits for the chunk
    // of the current page. `<html data-hydrated="true">` says the whole page is interactive.
    wasm_bindgen_futures::spawn_local(async {
        let mounted = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await;
        if let Some(root) = leptos::tachys::dom::document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
        mounted.forget();
    });
}
