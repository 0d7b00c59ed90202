import { MemoryStore } from '../src/store/memory/index.js';
import { storeContract } from './helpers/store-contract.js';

storeContract('memory', async () => new MemoryStore());
