//! `KVM_AUTH=none` answers this machine only, judged by the TCP peer, never by the `Host` header.
//!
//! "Another machine" is a network namespace this test creates, joined to this one by a veth pair
//! on a private /30 (`ip netns`, `ip link ... type veth`; needs root, which CI has). No traffic
//! goes to any other non-loopback address; everything is removed afterwards.

mod common;

use std::process::Command;

use common::TestServer;
use kv_manager::config::Auth;

struct Peer {
    namespace: String,
    host_link: String,
    host_ip: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("the ip command (iproute2)");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

impl Peer {
    fn create() -> Self {
        let id = std::process::id() % 100_000;
        let (namespace, host_link, peer_link) = (format!("kvmt{id}"), format!("kvh{id}"), format!("kvp{id}"));
        let subnet = format!("10.213.{}", (id % 63) * 4);
        let (host_ip, peer_ip) = (format!("{subnet}.{}", 1), format!("{subnet}.{}", 2));
        ip(&["netns", "add", &namespace]);
        let peer = Self { namespace, host_link, host_ip };
        ip(&["link", "add", &peer.host_link, "type", "veth", "peer", "name", &peer_link]);
        ip(&["link", "set", &peer_link, "netns", &peer.namespace]);
        ip(&["addr", "add", &format!("{}/30", peer.host_ip), "dev", &peer.host_link]);
        ip(&["link", "set", &peer.host_link, "up"]);
        ip(&["netns", "exec", &peer.namespace, "ip", "addr", "add", &format!("{peer_ip}/30"), "dev", &peer_link]);
        ip(&["netns", "exec", &peer.namespace, "ip", "link", "set", &peer_link, "up"]);
        peer
    }

    /// Status line of a request sent from inside the other namespace (a blocking call).
    fn send(&self, port: u16, head: &str) -> impl FnOnce() -> String + Send + 'static {
        let script = format!(
            "exec 3<>/dev/tcp/{}/{port}; printf '{}' >&3; head -n 1 <&3",
            self.host_ip,
            head.replace('\r', "\\r").replace('\n', "\\n")
        );
        let namespace = self.namespace.clone();
        move || {
            let out = Command::new("ip")
                .args(["netns", "exec", &namespace, "bash", "-c", &script])
                .output()
                .expect("ip netns exec");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.namespace]).output();
        let _ = Command::new("ip").args(["link", "del", &self.host_link]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_sign_in_only_this_machine_is_answered_whatever_the_host_header_says() {
    let peer = Peer::create();
    let server = TestServer::configured("0.0.0.0:0", |c| c.auth = Auth::None { insecure_no_auth: true }).await;
    let port = server.addr.port();

    // This machine, over loopback: the local user.
    let local = TestServer::at(format!("127.0.0.1:{port}").parse().unwrap());
    assert_eq!(local.call("list_namespaces", serde_json::json!({})).await.status, 200);

    // Another machine, claiming to be localhost in every way a header can.
    let forged = "POST /api/create_namespace HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 127.0.0.1\r\nX-Real-IP: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{\"title\":\"evil\"}";
    let status = tokio::task::spawn_blocking(peer.send(port, forged)).await.unwrap();
    assert!(status.starts_with("HTTP/1.1 403"), "from another machine: {status:?}");
    let page = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let status = tokio::task::spawn_blocking(peer.send(port, page)).await.unwrap();
    assert!(status.starts_with("HTTP/1.1 403"), "a page for another machine: {status:?}");

    // Every other surface too: the two APIs, their documents and the health check.
    for path in
        ["/v1/kv/k", "/v1/kv", "/client/v4/accounts/a/storage/kv/namespaces", "/docs", "/openapi.json", "/health"]
    {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nX-Kevi-Token: t\r\nAuthorization: Bearer t\r\nConnection: close\r\n\r\n"
        );
        let status = tokio::task::spawn_blocking(peer.send(port, &head)).await.unwrap();
        assert!(status.starts_with("HTTP/1.1 403"), "{path} for another machine: {status:?}");
    }

    // This machine through its own non-loopback address is not loopback either (and its
    // address is not a name the server answers to: 421 before the peer is even looked at).
    let via_lan = TestServer::at(format!("{}:{port}", peer.host_ip).parse().unwrap());
    assert_eq!(via_lan.get("/").await.status, 421);
    assert_eq!(via_lan.request_to("localhost", "GET", "/v1/kv/k", &[], b"").await.status, 403);
    assert_eq!(via_lan.request_to("localhost", "GET", "/health", &[], b"").await.status, 403);

    let listed = local.ok("list_namespaces", serde_json::json!({})).await;
    assert_eq!(listed["total"], 0, "the forged request created a namespace");
}
