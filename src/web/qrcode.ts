// qrcode, loaded lazily by routes/strong-factors.ts: a module of ours that imports it statically, as
// esbuild gives a bundled CommonJS package imported dynamically only its default export.
import QRCode from "qrcode";

export { QRCode };
