//functions.js
function API(req, res) { //http function
    const ip = res.socket.remoteAddress;
    console.log(`Client ip address is ${ip}.`);
    res.writeHead(200);
    res.end('Hello, World!');
}

function Ticker(envs) { //cron function
    console.log(envs); 
    console.log(`Ticker ticked at ${Date.now()}`);
}

module.exports = {
    API,
    Ticker
}
