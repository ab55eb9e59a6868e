/* A signature pad for the visit form (VIS-06): draw with a mouse, a finger or a pen.
 *
 * Markup: <div class="signature-pad" data-target="ID of a hidden input">
 *           <canvas></canvas> <button type="button" class="signature-clear">
 *         </div>
 * On every stroke the hidden input receives the drawing as a PNG data URL;
 * "clear" empties both. Pointer events cover mouse, touch and pen alike;
 * the canvas keeps its drawing when the page is resized or rotated.
 */
(function () {
  "use strict";

  function setUp(pad) {
    var canvas = pad.querySelector("canvas");
    var target = document.getElementById(pad.getAttribute("data-target"));
    var clearButton = pad.querySelector(".signature-clear");
    var context = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;

    function styleInk() {
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#000";
    }

    function paintWhite() {
      context.save();
      context.setTransform(1, 0, 0, 1, 0, 0);
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.restore();
    }

    // The saved PNG (the hidden input) is the drawing; the canvas only shows it. Redrawing
    // from it survives any number of resizes in a row, which redrawing from the canvas
    // itself would not (the image loads asynchronously).
    var redrawToken = 0;

    function redraw() {
      var source = target ? target.value : "";
      var token = ++redrawToken;
      if (source.indexOf("data:image/png;base64,") !== 0) {
        return;
      }
      var image = new Image();
      image.onload = function () {
        if (token !== redrawToken) {
          return;  // a newer stroke or resize came first
        }
        context.drawImage(image, 0, 0, canvas.clientWidth, canvas.clientHeight);
        drawn = true;
        pad.classList.add("signature-signed");
      };
      image.src = source;
    }

    // Match the canvas's pixels to its displayed size (sharp lines on high-density
    // screens), keeping what was drawn.
    function fit() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var width = Math.round(canvas.clientWidth * ratio);
      var height = Math.round(canvas.clientHeight * ratio);
      if (!width || !height || (width === canvas.width && height === canvas.height)) {
        return;
      }
      canvas.width = width;
      canvas.height = height;
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      paintWhite();
      styleInk();
      redraw();
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    function save() {
      if (target) {
        target.value = drawn ? canvas.toDataURL("image/png") : "";
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }
      pad.classList.toggle("signature-signed", drawn);
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) {
        return;
      }
      event.preventDefault();
      redrawToken += 1;
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) {
        canvas.setPointerCapture(event.pointerId);
      }
      // A tap alone leaves a dot.
      context.beginPath();
      context.arc(last.x, last.y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fillStyle = "#000";
      context.fill();
      drawn = true;
    });

    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) {
        return;
      }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      if (!events.length) {
        events = [event];
      }
      context.beginPath();
      context.moveTo(last.x, last.y);
      for (var i = 0; i < events.length; i += 1) {
        var next = point(events[i]);
        context.lineTo(next.x, next.y);
        last = next;
      }
      context.stroke();
    });

    function finish(event) {
      if (!drawing) {
        return;
      }
      drawing = false;
      if (canvas.releasePointerCapture && event.pointerId !== undefined) {
        try { canvas.releasePointerCapture(event.pointerId); } catch (ignored) { /* already released */ }
      }
      save();
    }

    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("pointerleave", function (event) {
      // With pointer capture the stroke continues outside; without it, end it here.
      if (!canvas.hasPointerCapture || !canvas.hasPointerCapture(event.pointerId)) {
        finish(event);
      }
    });

    if (clearButton) {
      clearButton.addEventListener("click", function () {
        redrawToken += 1;
        drawn = false;
        paintWhite();
        save();
      });
    }

    window.addEventListener("resize", fit);
    fit();
    // A drawing kept from a refused submission is shown again.
    redraw();
  }

  function start() {
    var pads = document.querySelectorAll(".signature-pad");
    for (var i = 0; i < pads.length; i += 1) {
      setUp(pads[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
