// The demo's order id: from ?order=, else a new one kept in the URL so a
// reload (or a shared link) stays on the same order.
export function orderId() {
  const url = new URL(location.href);
  let id = url.searchParams.get("order");
  if (!id || !/^[A-Za-z0-9._:-]{1,128}$/.test(id)) {
    id = `order-${crypto.randomUUID().slice(0, 8)}`;
    url.searchParams.set("order", id);
    history.replaceState(null, "", url);
  }
  return id;
}

export function pageFor(page, id) {
  const url = new URL(page, location.href);
  url.searchParams.set("order", id);
  return url.href;
}
