// Vue 3 fixture: the same widgets as the React one, with render functions (no SFC compiler).
import { defineComponent, h, onUpdated } from 'vue';
import { useSocket, useSocketReducer } from '../../../src/vue.js';
import { collect, count, inOrder, socket } from './socket.js';

const Widget = defineComponent({
  props: { id: { type: String, required: true } },
  setup(props) {
    const ws = socket();
    const { state } = useSocket(ws);
    const seqs = useSocketReducer(ws, collect, []);
    onUpdated(() => count(props.id, 'commits'));
    return () => {
      count(props.id, 'renders');
      const list = seqs.value;
      return h('div', { class: 'widget', 'data-id': props.id, 'data-state': state.value, 'data-count': list.length, 'data-ordered': String(inOrder(list)) }, `${state.value} ${list.length}`);
    };
  },
});

export const App = defineComponent({
  props: { n: { type: Number, required: true } },
  setup(props) {
    return () => h('div', { class: 'app' }, Array.from({ length: props.n }, (_, i) => h(Widget, { key: i, id: `w${i}` })));
  },
});
