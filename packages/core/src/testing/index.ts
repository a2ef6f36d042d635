// `@metaxy/core/testing`: fixtures for tests of Metaxy itself and of code built on it.
export { type VideoFeatures, videoFeatures } from "./video-features.js";
