export { Backend, BackendOptions, SnorkyError, TransportError } from "./index.js";
