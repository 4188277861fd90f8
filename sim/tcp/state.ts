// TCP connection states (RFC 9293 3.3.2) and the sets of them in which data is sent or received.
export enum TcpState {
  CLOSED, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT,
}

export const SYNCED_SEND_STATES = (1 << TcpState.ESTABLISHED) | (1 << TcpState.CLOSE_WAIT) | (1 << TcpState.FIN_WAIT_1) | (1 << TcpState.CLOSING) | (1 << TcpState.LAST_ACK);
export const DATA_RECEIVE_STATES = (1 << TcpState.ESTABLISHED) | (1 << TcpState.FIN_WAIT_1) | (1 << TcpState.FIN_WAIT_2);
