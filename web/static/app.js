// SPDX-License-Identifier: ISC
// Copyright (c) 2026 The latch authors
// latchd admin UI: the only script besides htmx. It lets files be dropped
// onto the upload form and lists their names (as text, never as markup).
"use strict";

function latchShowFiles(input, list) {
    list.replaceChildren();
    for (const f of input.files) {
        const li = document.createElement("li");
        li.textContent = f.name + " (" + f.size + " bytes)";
        list.appendChild(li);
    }
}

document.addEventListener("DOMContentLoaded", function () {
    for (const zone of document.querySelectorAll("[data-dropzone]")) {
        const input = zone.querySelector("input[type=file]");
        const list = zone.querySelector("ul");
        if (!input || !list) {
            continue;
        }
        input.addEventListener("change", function () {
            latchShowFiles(input, list);
        });
        zone.addEventListener("dragover", function (e) {
            e.preventDefault();
            zone.classList.add("over");
        });
        zone.addEventListener("dragleave", function () {
            zone.classList.remove("over");
        });
        zone.addEventListener("drop", function (e) {
            e.preventDefault();
            zone.classList.remove("over");
            if (e.dataTransfer && e.dataTransfer.files.length > 0) {
                input.files = e.dataTransfer.files;
                latchShowFiles(input, list);
            }
        });
    }
});
