package e2e

import "fmt"

// overlapsJS finds things on the page that cover each other: every visible
// line of text (each text node's line boxes, so a short label in a wide block
// counts only as wide as its words), and every form control, button and image,
// each clipped to the boxes of its ancestors that hide or scroll their overflow.
// Two of them that overlap by more than 2 px both ways are reported, unless one
// holds the other (a button's own label). It returns at most 10 descriptions.
const overlapsJS = `(() => {
	const tolerance = 2;
	const styles = new Map();
	const style = el => { let s = styles.get(el); if (!s) { s = getComputedStyle(el); styles.set(el, s); } return s; };
	// checkVisibility also hides what a closed <details> holds.
	const shown = el => el.checkVisibility({opacityProperty: true, visibilityProperty: true});
	// The part of the page an element's overflow-clipping ancestors let through.
	const clips = new Map();
	const clipOf = el => {
		if (!el) return {left: -Infinity, top: -Infinity, right: Infinity, bottom: Infinity};
		if (clips.has(el)) return clips.get(el);
		let c = clipOf(el.parentElement);
		const s = style(el);
		if (s.overflowX !== "visible" || s.overflowY !== "visible" || s.clip !== "auto" || s.clipPath !== "none") {
			const r = el.getBoundingClientRect();
			c = {left: Math.max(c.left, r.left), top: Math.max(c.top, r.top), right: Math.min(c.right, r.right), bottom: Math.min(c.bottom, r.bottom)};
		}
		clips.set(el, c);
		return c;
	};
	const clipped = (r, el) => {
		const c = clipOf(el);
		return {left: Math.max(r.left, c.left), top: Math.max(r.top, c.top), right: Math.min(r.right, c.right), bottom: Math.min(r.bottom, c.bottom)};
	};
	const name = el => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += "#" + el.id;
		if (el.classList.length) s += "." + [...el.classList].join(".");
		return s;
	};
	const items = [];
	const add = (node, owner, rects, what) => {
		for (const raw of rects) {
			const r = clipped(raw, owner);
			if (r.right - r.left > tolerance && r.bottom - r.top > tolerance) items.push({node, owner, r, what});
		}
	};
	for (const el of document.body.querySelectorAll("input:not([type=hidden]), button, select, textarea, img, svg, video")) {
		if (shown(el)) add(el, el, [el.getBoundingClientRect()], name(el) + (el.textContent.trim() ? " " + JSON.stringify(el.textContent.trim().slice(0, 40)) : ""));
	}
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		const el = n.parentElement;
		if (!n.data.trim() || !el || ["SCRIPT", "STYLE", "OPTION", "TEXTAREA"].includes(el.tagName) || !shown(el)) continue;
		const range = document.createRange();
		range.selectNodeContents(n);
		add(n, el, range.getClientRects(), "text " + JSON.stringify(n.data.trim().slice(0, 40)) + " in " + name(el));
	}
	const out = [];
	for (let i = 0; i < items.length && out.length < 10; i++) {
		for (let j = i + 1; j < items.length && out.length < 10; j++) {
			const a = items[i], b = items[j];
			if (a.node === b.node || a.node.contains(b.node) || b.node.contains(a.node)) continue;
			const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
			const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
			if (w > tolerance && h > tolerance) {
				out.push(a.what + " and " + b.what + " overlap by " + Math.round(w) + "×" + Math.round(h) + " px");
			}
		}
	}
	return out;
})()`

// cutOffJS finds boxes narrower than their content that scroll or clip it
// sideways: on a phone such a table or panel hides columns off-screen, and
// nothing tells the reader to swipe. It returns their descriptions.
const cutOffJS = `[...document.body.querySelectorAll("*")].filter(el => {
	const s = getComputedStyle(el);
	return s.display !== "none" && s.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1 &&
		!el.matches("input, select, textarea, button") && // a long value scrolls inside its field
		el.clientWidth > 2; // the 1 px box of visually hidden text holds its words on purpose
}).map(el => {
	let s = el.tagName.toLowerCase();
	if (el.id) s += "#" + el.id;
	if (el.classList.length) s += "." + [...el.classList].join(".");
	return s + " is " + (el.scrollWidth - el.clientWidth) + " px narrower than its content";
})`

// layoutProblems returns what is wrong with the page's layout: things that
// cover each other, and on a phone anything wider than the screen or cut off
// at the side.
func (b *browser) layoutProblems() []string {
	b.t.Helper()
	var problems []string
	for _, o := range eval[[]string](b, "look for overlapping elements", overlapsJS) {
		problems = append(problems, "overlap: "+o)
	}
	if b.phone {
		if w := eval[float64](b, "measure the page width", `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			problems = append(problems, fmt.Sprintf("the page is %.0fpx wider than the phone's screen", w))
		}
		for _, c := range eval[[]string](b, "look for content cut off at the side", cutOffJS) {
			problems = append(problems, "cut off on the phone: "+c)
		}
	}
	return problems
}
