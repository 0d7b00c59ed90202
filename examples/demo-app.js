// The application the examples serve: the demo tools of `sessiongate demo`.
export { createDemoApplication } from '../dist/cli/demo/demo-application.js';
